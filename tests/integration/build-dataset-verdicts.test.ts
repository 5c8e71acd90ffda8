import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { TASK_QUEUE_CPU } from '../../core/config';
import { schemaProblems } from '../../core/schemas';
import type { BuildDatasetInput, DatasetManifest } from '../../schemas/generated/types';
import { buildDataset } from '../../workflows';
import { englishReport, slideDeck } from '../fixtures/dataset/documents';
import { testClient, testNodeWorker } from '../helpers/temporal';
import { countsIdentityHolds, exportedRows, rejectionRows, storeDocuments } from './dataset-helpers';

jest.setTimeout(120_000);

describe('buildDataset workflow with review verdicts', () => {
  const store = artifactStoreFromEnv();

  async function run(request: BuildDatasetInput) {
    const client = await testClient();
    const worker = await testNodeWorker();
    const handle = await client.workflow.start(buildDataset, { taskQueue: TASK_QUEUE_CPU, workflowId: `build-dataset-verdicts-${randomUUID()}`, args: [request] });
    const result = await worker.runUntil(handle.result());
    return { result, manifest: await store.getJson<DatasetManifest>(result.dataset) };
  }

  it('excludes the samples marked bad at finalize, counts them as review_bad and records the precision', async () => {
    const documents = (await storeDocuments([englishReport, slideDeck])) as BuildDatasetInput['documents'];
    const first = await run({ documents });
    const firstRows = await exportedRows(first.manifest);
    const [bad, good] = [firstRows[0]!.id, firstRows[1]!.id];
    const verdicts = await store.put(`${JSON.stringify({ id: bad, verdict: 'bad', note: 'wrong table' })}\n${JSON.stringify({ id: good, verdict: 'good' })}\n`, 'application/jsonl');

    const second = await run({ documents, verdicts });
    expect(second.result.reused_chunks).toBe(second.result.chunks);
    expect(schemaProblems('DatasetManifest', second.manifest)).toEqual([]);
    expect(second.manifest.review).toEqual({ verdicts: verdicts.sha256, marked: 2, good: 1, bad: 1, precision: 0.5, excluded: 1, unmatched: 0 });
    expect(second.manifest.counts.rejected_by_reason.review_bad).toBe(1);
    expect(countsIdentityHolds(second.manifest.counts)).toBe(true);
    const ids = (rows: { id: string; split?: string }[]) => rows.map((r) => `${r.id} ${r.split}`).sort();
    expect(ids(await exportedRows(second.manifest))).toEqual(ids(firstRows.filter((r) => r.id !== bad)));
    expect((await rejectionRows(second.manifest)).filter((r) => r.reason === 'review_bad')).toEqual([expect.objectContaining({ detail: 'wrong table', sample: expect.objectContaining({ id: bad }) })]);
  });

  it('fails at planning, before any generation, with a typed InvalidRequest for a malformed verdicts file', async () => {
    const documents = (await storeDocuments([englishReport])) as BuildDatasetInput['documents'];
    const verdicts = await store.put('{"id":"x","verdict":"perhaps"}\n', 'application/jsonl');
    const failure = await run({ documents, verdicts }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (failure as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure.activityType).toBe('planDataset');
    const cause = activityFailure.cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidRequest');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('line 1 is not a DatasetVerdict');
  });
});
