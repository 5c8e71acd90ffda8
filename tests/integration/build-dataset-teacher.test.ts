import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { loadConfig, TASK_QUEUE_CPU } from '../../core/config';
import type { BuildDatasetInput, DatasetManifest } from '../../schemas/generated/types';
import { buildDataset } from '../../workflows';
import { chinesePolicy } from '../fixtures/dataset/documents';
import { startModelServer, type RunningModelServer } from '../helpers/model-server';
import { recordHistory } from '../helpers/histories';
import { testClient, testNodeWorker } from '../helpers/temporal';
import { countsIdentityHolds, exportedRows, parsedCorpus, storeDocuments, rejectionRows } from './dataset-helpers';

jest.setTimeout(480_000);

describe('buildDataset with the real SmolLM2-135M teacher (llama.cpp model server)', () => {
  let server: RunningModelServer;
  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers with the teacher, keeps every bad reply with its reason, and survives a worker restart without regenerating finished chunks', async () => {
    const input: BuildDatasetInput = {
      // The Chinese fixture note (the corpus's only Chinese prose is spreadsheet cells) and a parsed English corpus document.
      documents: (await storeDocuments([chinesePolicy, ...(await parsedCorpus(['docx/docling-word_sample.docx']))])) as BuildDatasetInput['documents'],
      // A handful of short teacher calls: four chunks (three Chinese, one English), 48 tokens each, each answer then scored by the same model as judge.
      config: { teacher: { url: server.url, model: server.modelId, max_tokens: 48, max_chunks: 4, concurrency: 2 }, judge_threshold: 0.5 },
    };
    const client = await testClient();
    const handle = await client.workflow.start(buildDataset, { taskQueue: TASK_QUEUE_CPU, workflowId: `build-dataset-teacher-${randomUUID()}`, args: [input] });

    // First worker: stop it once the chunk group (one generateDatasetChunkGroup activity of the batch child)
    // has stored a chunk's result, mid-build. Its activity is cancelled and retried on the second worker.
    const batch = client.workflow.getHandle(`${handle.workflowId}/chunks-1`);
    const chunkIndex = path.join(loadConfig().dataDir, 'dataset-chunks');
    const storedChunks = () => (fs.existsSync(chunkIndex) ? fs.readdirSync(chunkIndex, { recursive: true }).filter((f) => String(f).endsWith('.json')).length : 0);
    const storedBefore = storedChunks();
    const first = await testNodeWorker({ identity: 'first-worker' });
    await first.runUntil(async () => {
      while (storedChunks() === storedBefore) await new Promise((r) => setTimeout(r, 100));
    });
    const second = await testNodeWorker({ identity: 'second-worker' });
    const result = await second.runUntil(handle.result());

    await recordHistory(handle, 'build-dataset-teacher-restart');
    const events = (await batch.fetchHistory()).events ?? [];
    const groupStarts = events.filter((e) => e.activityTaskStartedEventAttributes);
    expect(new Set(groupStarts.map((e) => e.activityTaskStartedEventAttributes!.identity))).toEqual(new Set(['first-worker', 'second-worker']));
    // The chunks the first worker finished came from the chunk cache on the retry: no teacher call was paid twice.
    expect(result.reused_chunks).toBeGreaterThanOrEqual(1);
    expect(result.reused_chunks).toBeLessThan(result.chunks);

    const store = artifactStoreFromEnv();
    const manifest = await store.getJson<DatasetManifest>(result.dataset);
    expect(countsIdentityHolds(manifest.counts)).toBe(true);
    const rejections = await rejectionRows(manifest);
    const teacherRows = (await exportedRows(manifest)).filter((r) => r.provenance.engine === 'teacher');
    const teacherRejections = rejections.filter((r) => r.generator.startsWith(`${server.modelId}/`));
    // SmolLM2-135M is weak: whatever it produced is either in the dataset or refused with a reason, none lost.
    expect(teacherRows.length + teacherRejections.length).toBeGreaterThan(5);
    expect(teacherRejections.every((r) => r.reason.length > 0)).toBe(true);
    // Teacher samples that reached the gates carry the judge's score, and the threshold applied to it.
    const judged = [...teacherRows.map((r) => r.provenance), ...teacherRejections.flatMap((r) => (r.sample ? [(r.sample as { provenance: { judge_score: number | null } }).provenance] : []))];
    expect(judged.length).toBeGreaterThan(0);
    expect(judged.every((p) => typeof p.judge_score === 'number')).toBe(true);
    expect(teacherRows.every((r) => r.provenance.judge_score! >= 0.5)).toBe(true);
    // The score is the weakest rubric criterion, and the manifest accounts for every judged sample.
    for (const r of teacherRows) {
      const c = r.provenance.judge_criteria!;
      expect(r.provenance.judge_score).toBe((Math.min(c.faithful, c.complete, c.answers) - 1) / 4);
    }
    const judge = manifest.judge!;
    expect(judge.threshold).toBe(0.5);
    expect(judge.accepted + Object.values(judge.rejected_by_reason).reduce((a, b) => a + b, 0)).toBe(judge.judged);
    expect(Object.keys(judge.rejected_by_reason).every((reason) => ['judge_unfaithful', 'judge_incomplete', 'judge_off_instruction'].includes(reason))).toBe(true);
    expect(judge.judged).toBeGreaterThanOrEqual(teacherRows.length);

    // Same inputs and config: every chunk comes from the chunk cache, no teacher call is paid again.
    const rerun = await client.workflow.start(buildDataset, { taskQueue: TASK_QUEUE_CPU, workflowId: `build-dataset-teacher-rerun-${randomUUID()}`, args: [input] });
    const third = await testNodeWorker();
    const again = await third.runUntil(rerun.result());
    expect(again.reused_chunks).toBe(again.chunks);
    expect(again.counts).toEqual(result.counts);
  });
});
