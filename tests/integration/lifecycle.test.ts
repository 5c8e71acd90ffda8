import type { Client } from '@temporalio/client';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { lifecycleInput } from '../../cli/lifecycle-input';
import { artifactStoreFromEnv, type ArtifactRef } from '../../core/artifacts';
import { loadConfig, REPO_ROOT, TASK_QUEUE_CPU, temporalExecutable } from '../../core/config';
import type { LifecycleInput, LifecycleProgress, LifecycleResult } from '../../schemas/generated/types';
import { recordHistory } from '../helpers/histories';
import { startTestWorkers, testAddress, testClient } from '../helpers/temporal';

jest.setTimeout(600_000);

const SAMPLES = path.join(REPO_ROOT, 'samples', 'corpus');
/** Small on purpose (config/lifecycle.tiny.json): the whole loop on CPU in a few minutes; make demo runs the full sample corpus. */
const TINY_LIFECYCLE: LifecycleInput = lifecycleInput(
  ['pump-station-report.docx', 'q3-operations-review-zh.docx', 'cooling-upgrade.pptx', 'incident-log.xlsx'].map((f) => path.join(SAMPLES, f)),
  path.join(REPO_ROOT, 'config', 'lifecycle.tiny.json'),
);

describe('lifecycle: documents to a published routing table on a real dev server', () => {
  let client: Client;
  let workers: { stop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    // The first test expects the first publication in this data dir: tables other tests published (the
    // efficacy test's) are set aside.
    await fs.rm(path.join(loadConfig().dataDir, 'routing', 'tables'), { recursive: true, force: true });
    client = await testClient();
    workers = await startTestWorkers();
  });
  afterAll(async () => {
    await workers?.stop();
  });

  async function runLifecycle(workflowId: string, input: LifecycleInput = TINY_LIFECYCLE) {
    const handle = await client.workflow.start('lifecycle', { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] });
    const stagesSeen = new Set<string>();
    const poll = setInterval(() => {
      handle
        .query<LifecycleProgress>('progress')
        .then((p) => stagesSeen.add(p.stage))
        .catch(() => undefined);
    }, 300);
    try {
      const result = (await handle.result()) as LifecycleResult;
      return { handle, result, stagesSeen };
    } finally {
      clearInterval(poll);
    }
  }

  let first: LifecycleResult;

  it('runs every stage as a child workflow and publishes the first routing table', async () => {
    const { handle, result, stagesSeen } = await runLifecycle('lifecycle-test-first');
    first = result;
    await recordHistory(handle, 'lifecycle');
    expect(result.status).toBe('published');
    expect(result.publication).toBe('first_table');
    expect(result.ingest).toEqual({ ok: 4, failed: 0, failures: [] });
    const { artifacts } = result;
    expect(artifacts.documents).toHaveLength(4);
    expect(artifacts.adapters).toEqual([expect.objectContaining({ model_id: 'smollm2-135m', recipe: 'lora', adapter: expect.any(Object) })]);
    const store = artifactStoreFromEnv();
    const refs = [...artifacts.documents!, artifacts.dataset!, artifacts.adapters![0]!.adapter!, artifacts.perf_index!, artifacts.routing_table!] as ArtifactRef[];
    for (const ref of refs) expect(await store.has(ref)).toBe(true);
    expect(stagesSeen.size).toBeGreaterThanOrEqual(2);

    const progress = await handle.query<LifecycleProgress>('progress');
    expect(progress.stage).toBe('done');
    expect(progress.stages.map((s) => [s.stage, s.status])).toEqual([
      ['ingest', 'done'],
      ['dataset', 'done'],
      ['train', 'done'],
      ['evaluate', 'done'],
      ['publish', 'done'],
    ]);
    const { searchAttributes } = await handle.describe();
    expect(searchAttributes.LlmloopStage).toEqual(['done']);
    expect(searchAttributes.DatasetVersion).toEqual([artifacts.dataset_version]);
    expect(searchAttributes.RoutingTableVersion).toEqual([artifacts.routing_table_version]);
  });

  it('reuses every stage result by content hash when run again with the same inputs', async () => {
    const { handle, result } = await runLifecycle('lifecycle-test-again');
    const progress = await handle.query<LifecycleProgress>('progress');
    expect(progress.stages.filter((s) => s.status === 'reused').map((s) => s.stage)).toEqual(['dataset', 'train', 'evaluate']);
    expect(result.artifacts.documents).toEqual(first.artifacts.documents);
    expect(result.artifacts.dataset).toEqual(first.artifacts.dataset);
    expect(result.artifacts.adapters).toEqual(first.artifacts.adapters);
    expect(result.artifacts.perf_index).toEqual(first.artifacts.perf_index);
    expect(result.publication).toBe('same_as_champion');
    expect(result.status).toBe('published');
  });

  it('starts from the temporal CLI exactly as the README shows', async () => {
    const run = promisify(execFile);
    const input = JSON.stringify(TINY_LIFECYCLE);
    await run(temporalExecutable(), ['workflow', 'start', '--address', testAddress(), '--type', 'lifecycle', '--task-queue', TASK_QUEUE_CPU, '--workflow-id', 'lifecycle-test-cli', '--input', input]);
    const { stdout } = await run(temporalExecutable(), ['workflow', 'result', '--address', testAddress(), '--workflow-id', 'lifecycle-test-cli', '--output', 'json'], { maxBuffer: 16 << 20 });
    expect(JSON.parse(stdout)).toMatchObject({ status: 'COMPLETED', result: { status: 'published' } });
    const { stdout: found } = await run(temporalExecutable(), ['workflow', 'list', '--address', testAddress(), '--query', 'LlmloopStage="done"', '--output', 'json']);
    expect(found).toContain('lifecycle-test-cli');
  });

  it('stops on the cancel update and reports what it cancelled', async () => {
    const handle = await client.workflow.start('lifecycle', { taskQueue: TASK_QUEUE_CPU, workflowId: 'lifecycle-test-cancel', args: [{ ...TINY_LIFECYCLE, dataset: { seed: 99 } }] });
    await expect(handle.executeUpdate('approvePublish', { args: [{ approve: true, by: 'test', reason: 'nothing waits' }] })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/no routing table is waiting/) } });
    await handle.executeUpdate('cancel', { args: [{ reason: 'wrong corpus' }] });
    const result = (await handle.result()) as LifecycleResult;
    expect(result).toMatchObject({ status: 'cancelled', cancel_reason: 'wrong corpus' });
    const progress = await handle.query<LifecycleProgress>('progress');
    expect(progress.stage).toBe('cancelled');
    expect(progress.stages.some((s) => s.status === 'cancelled')).toBe(true);
  });
});
