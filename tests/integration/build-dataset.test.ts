import { WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { TASK_QUEUE_CPU } from '../../core/config';
import { schemaProblems } from '../../core/schemas';
import type { BuildDatasetInput, DatasetManifest, DatasetRejection } from '../../schemas/generated/types';
import { buildDataset, datasetProgressQuery, reviewDatasetBatchUpdate } from '../../workflows';
import { chinesePolicy, chinesePolicyNearCopy, englishReport, slideDeck } from '../fixtures/dataset/documents';
import { recordHistory } from '../helpers/histories';
import { testClient, testNodeWorker } from '../helpers/temporal';
import { countsIdentityHolds, exportedRows, parsedCorpus, storeDocuments, rejectionRows } from './dataset-helpers';

jest.setTimeout(180_000);

describe('buildDataset workflow (templates) on the parsed shared corpus', () => {
  let input: BuildDatasetInput;
  beforeAll(async () => {
    const corpus = await parsedCorpus();
    expect(corpus.length).toBeGreaterThan(10);
    // The Chinese note and its near-copy ride along so near-duplicate removal is checked on real Chinese text.
    input = { documents: (await storeDocuments([...corpus, chinesePolicy, chinesePolicyNearCopy])) as BuildDatasetInput['documents'] };
  });

  async function run(request: BuildDatasetInput) {
    const client = await testClient();
    const worker = await testNodeWorker();
    const handle = await client.workflow.start(buildDataset, { taskQueue: TASK_QUEUE_CPU, workflowId: `build-dataset-${randomUUID()}`, args: [request] });
    const result = await worker.runUntil(handle.result());
    const manifest = await artifactStoreFromEnv().getJson<DatasetManifest>(result.dataset);
    return { result, manifest, handle };
  }

  it('builds a leak-free, loss-free dataset and resumes from stored chunk results on a rerun', async () => {
    const { result, manifest } = await run(input);
    expect(schemaProblems('DatasetManifest', manifest)).toEqual([]);
    expect(result.version).toBe(manifest.version);
    expect(countsIdentityHolds(manifest.counts)).toBe(true);
    expect(new Set(Object.keys(manifest.by_task_type))).toEqual(new Set(['summary', 'classification', 'reasoning', 'rewrite', 'ranking']));
    expect(Object.keys(manifest.by_language).sort()).toEqual(['en', 'zh']);

    const rows = await exportedRows(manifest);
    const splitsPerDocument = new Map<string, Set<string>>();
    for (const row of rows) splitsPerDocument.set(row.source_sha256, (splitsPerDocument.get(row.source_sha256) ?? new Set()).add(row.split!));
    expect([...splitsPerDocument.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...splitsPerDocument.values()].map((s) => [...s][0]))).toEqual(new Set(['train', 'validation', 'test']));

    const rejections = await rejectionRows(manifest);
    const fromCopy = (r: DatasetRejection) => r.chunk_id.startsWith(chinesePolicyNearCopy.source.sha256.slice(0, 12)) || r.chunk_id.startsWith(chinesePolicy.source.sha256.slice(0, 12));
    expect(rejections.filter(fromCopy).filter((r) => r.reason === 'near_duplicate').length).toBeGreaterThanOrEqual(4);
    expect(manifest.by_language.zh).toBeGreaterThan(0);

    const rerun = await run(input);
    expect(rerun.result.reused_chunks).toBe(rerun.result.chunks);
    expect(rerun.manifest.version).toBe(manifest.version);
  });

  it('pauses for review after drafting, answers approved batches only and counts rejected ones', async () => {
    const small: BuildDatasetInput = { documents: (await storeDocuments([englishReport, slideDeck])) as BuildDatasetInput['documents'], review: { batch_size: 4 } };
    const client = await testClient();
    const worker = await testNodeWorker();
    const handle = await client.workflow.start(buildDataset, { taskQueue: TASK_QUEUE_CPU, workflowId: `build-dataset-review-${randomUUID()}`, args: [small] });
    const result = await worker.runUntil(async () => {
      let progress = await handle.query(datasetProgressQuery);
      while (progress.phase !== 'awaiting_review') {
        await new Promise((r) => setTimeout(r, 200));
        progress = await handle.query(datasetProgressQuery);
      }
      expect(progress.pending_review).toEqual([0, 1]);
      const invalid = await handle.executeUpdate(reviewDatasetBatchUpdate, { args: [{ batch: 7, decision: 'approve' }] }).catch((e: unknown) => e);
      expect(invalid).toBeInstanceOf(WorkflowUpdateFailedError);
      await handle.executeUpdate(reviewDatasetBatchUpdate, { args: [{ batch: 0, decision: 'approve' }] });
      const after = await handle.executeUpdate(reviewDatasetBatchUpdate, { args: [{ batch: 1, decision: 'reject', reason: 'off-topic slides' }] });
      expect(after.pending_review).toEqual([]);
      const done = await handle.result();
      const final = await handle.query(datasetProgressQuery);
      expect(final.phase).toBe('done');
      expect(Object.values(final.by_task_type).every((t) => t.done === t.total)).toBe(true);
      return done;
    });
    await recordHistory(handle, 'build-dataset-review');
    const manifest = await artifactStoreFromEnv().getJson<DatasetManifest>(result.dataset);
    expect(manifest.counts.rejected_by_reason.review_rejected).toBeGreaterThan(0);
    expect(countsIdentityHolds(manifest.counts)).toBe(true);
    expect(manifest.documents.map((d) => d.path)).toEqual([englishReport.source.path]);
  });
});
