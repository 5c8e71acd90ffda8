/**
 * Bounded histories: buildDataset keeps every history (its own and each generateDatasetChunks
 * child's) under 10,000 events however many chunks it has. The real workflows and the real
 * batch-list activities run; planning, generation and finalize are cheap stubs on a queue of this
 * test's own, so only Temporal's bookkeeping is measured. make test runs 600 chunks (one full batch
 * of 500 and a partial one); `make history-check` (LLMLOOP_SCALE_TESTS=1) runs 20,000.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { artifactStoreFromEnv, sha256Hex, type ArtifactRef } from '../../core/artifacts';
import { loadChunkBatch, storeChunkResults, type DatasetChunkGroupResult, type DatasetChunkGroupTask } from '../../activities/dataset';
import { buildDataset } from '../../workflows';
import type { DatasetChunkResult, DatasetChunkTask, DatasetFinalized, DatasetFinalizeTask, DatasetPlan, DatasetPlanTask } from '../../schemas/generated/types';
import { recordHistory } from '../helpers/histories';
import { testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(40 * 60_000);

const CHUNKS = process.env.LLMLOOP_SCALE_TESTS === '1' ? 20_000 : 600;
const BATCH = 500;
const EVENT_LIMIT = 10_000;
const TASK_QUEUE = `history-growth-${process.pid}`;

const fakeRef = (label: string, index: number): ArtifactRef => ({ sha256: sha256Hex(`${label}-${index}`), bytes: index, media_type: 'application/json' });

const stubs = {
  async planDataset(task: DatasetPlanTask): Promise<DatasetPlan> {
    const store = artifactStoreFromEnv();
    const batchSize = task.batch_size!;
    const chunk_batches: ArtifactRef[] = [];
    for (let start = 0; start < CHUNKS; start += batchSize) {
      const tasks: DatasetChunkTask[] = Array.from({ length: Math.min(batchSize, CHUNKS - start) }, (_, i) => ({ work: fakeRef('work', start + i) }));
      chunk_batches.push(await store.putJson(tasks, 'application/json'));
    }
    return { plan: fakeRef('plan', 0), chunks: CHUNKS, chunk_batches, drafts_by_type: { qa: CHUNKS }, skipped_documents: [] };
  },
  async generateDatasetChunkGroup(group: DatasetChunkGroupTask): Promise<DatasetChunkGroupResult> {
    return { results: group.tasks.map((task): DatasetChunkResult => ({ chunk_index: task.work.bytes, result: fakeRef('result', task.work.bytes), drafted_by_type: { qa: 1 }, reused: false })) };
  },
  async finalizeDatasetBuild(task: DatasetFinalizeTask): Promise<DatasetFinalized> {
    const store = artifactStoreFromEnv();
    let n = task.chunk_results.length;
    for (const list of task.chunk_result_lists ?? []) n += (await store.getJson<ArtifactRef[]>(list)).length;
    return { dataset: fakeRef('manifest', 0), version: 'stub', counts: { generated: n, accepted: n, rejected_by_reason: {}, failed_by_error: {} } };
  },
  loadChunkBatch,
  storeChunkResults,
};

describe('history growth', () => {
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    client = await testClient();
    worker = await testNodeWorker({ taskQueue: TASK_QUEUE, activities: stubs, maxConcurrentActivityTaskExecutions: 1000, maxConcurrentActivityTaskPolls: 8 });
    running = worker.run();
  });

  afterAll(async () => {
    worker.shutdown();
    await running;
  });

  it(`buildDataset over ${CHUNKS} chunks keeps every history under ${EVENT_LIMIT} events`, async () => {
    const handle = await client.workflow.start(buildDataset, {
      taskQueue: TASK_QUEUE,
      workflowId: `history-growth-${Date.now()}`,
      args: [{ documents: [fakeRef('document', 0)] }],
    });
    const result = await handle.result();
    expect(result.chunks).toBe(CHUNKS);
    expect(result.counts.generated).toBe(CHUNKS);

    const parent = (await handle.fetchHistory()).events ?? [];
    const childIds = parent.flatMap((e) => (e.childWorkflowExecutionStartedEventAttributes ? [e.childWorkflowExecutionStartedEventAttributes.workflowExecution!.workflowId!] : []));
    expect(childIds).toHaveLength(Math.ceil(CHUNKS / BATCH));
    const childEvents = await Promise.all(childIds.map(async (id) => ((await client.workflow.getHandle(id).fetchHistory()).events ?? []).length));
    const largest = Math.max(parent.length, ...childEvents);
    const total = parent.length + childEvents.reduce((a, b) => a + b, 0);
    console.log(`buildDataset, ${CHUNKS} chunks: parent ${parent.length} events, ${childIds.length} children of ${Math.min(...childEvents)}-${Math.max(...childEvents)} events, ${(total / CHUNKS).toFixed(2)} events per chunk in all`);
    expect(largest).toBeLessThan(EVENT_LIMIT);
    // The batched path's histories, for replay (the smaller run's: a parent and its last, partial child).
    if (CHUNKS < 1000) {
      await recordHistory(handle, 'build-dataset-batched');
      await recordHistory(client.workflow.getHandle(childIds[childIds.length - 1]!), 'generate-dataset-chunks');
    }
  });
});
