import { randomUUID } from 'node:crypto';
import { artifactStoreFromEnv, sha256Hex } from '../../core/artifacts';
import { TASK_QUEUE_CPU } from '../../core/config';
import type { BuildDatasetInput, DatasetManifest, FeedbackTask } from '../../schemas/generated/types';
import { buildDataset } from '../../workflows';
import { chinesePolicy } from '../fixtures/dataset/documents';
import { startModelServer, type RunningModelServer } from '../helpers/model-server';
import { testClient, testNodeWorker } from '../helpers/temporal';
import { countsIdentityHolds, exportedRows, storeDocuments, rejectionRows } from './dataset-helpers';

jest.setTimeout(120_000);

const prompts: [string, FeedbackTask['reason']][] = [
  ['What is the capital of France? Answer in a full sentence.', 'low_score'],
  ['Describe a firewall in one short sentence.', 'new_cluster'],
  ['请用一句话说明为什么要定期备份数据。', 'low_score'],
];
const tasks: FeedbackTask[] = prompts.map(([prompt, reason], i) => ({
  id: `fb-${sha256Hex(prompt).slice(0, 16)}`,
  prompt,
  messages: [{ role: 'user', content: prompt }],
  reason,
  ...(reason === 'low_score' ? { score: 0.2 } : { similarity: 0.1 }),
  cluster: null,
  model: 'smollm2-135m',
  request_id: `req-${i}`,
  table_version: null,
}));

describe('buildDataset with feedback tasks answered by the real SmolLM2-135M teacher', () => {
  let server: RunningModelServer;
  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('turns every production prompt into a train-only sample or a rejection with its reason', async () => {
    const store = artifactStoreFromEnv();
    const feedback_tasks = await store.put(tasks.map((t) => JSON.stringify(t)).join('\n') + '\n', 'application/jsonl');
    const input: BuildDatasetInput = {
      documents: (await storeDocuments([chinesePolicy])) as BuildDatasetInput['documents'],
      // The document by templates only (max_chunks 0): the teacher's only calls are the three short feedback answers.
      config: { teacher: { url: server.url, model: server.modelId, max_tokens: 64, max_chunks: 0, concurrency: 2 } },
      feedback_tasks,
    };
    const client = await testClient();
    const worker = await testNodeWorker();
    const result = await worker.runUntil(client.workflow.execute(buildDataset, { taskQueue: TASK_QUEUE_CPU, workflowId: `build-dataset-feedback-${randomUUID()}`, args: [input] }));

    const manifest = await store.getJson<DatasetManifest>(result.dataset);
    expect(countsIdentityHolds(manifest.counts)).toBe(true);
    const generator = `${server.modelId}/feedback@1`;
    const rows = (await exportedRows(manifest)).filter((r) => r.provenance.generator === generator);
    const rejections = await rejectionRows(manifest);
    const refused = rejections.filter((r) => r.generator === generator);
    // SmolLM2-135M is weak: each task is accepted or refused with a reason, none lost, none failed.
    expect(rows.length + refused.length).toBe(tasks.length);
    // At temperature 0 the firewall question gets a full English sentence: it reaches the train exports.
    expect(rows.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.outcome === 'rejected' && r.reason.length > 0)).toBe(true);
    expect(rows.every((r) => r.split === 'train' && r.task_type === 'reasoning' && r.source_sha256 === feedback_tasks.sha256)).toBe(true);
    expect((manifest.by_source[feedback_tasks.sha256] ?? 0)).toBe(rows.length);
    // Answers that reached the gates were judged on length and language only: none is refused as ungrounded.
    expect(refused.map((r) => r.reason)).not.toContain('ungrounded');
    const gated = refused.flatMap((r) => (r.sample ? [(r.sample as { provenance: { feedback?: { request_id: string; tasks_sha256: string } } }).provenance.feedback] : []));
    expect(gated.every((f) => f !== undefined && f.tasks_sha256 === feedback_tasks.sha256 && f.request_id.startsWith('req-'))).toBe(true);
  });
});
