import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectFeedbackTasks } from '../../activities/feedback-collection';
import { LocalArtifactStore } from '../../core/artifacts';
import { lastUserText } from '../../core/chat-messages';
import { TableStore } from '../../core/routing/store';
import { buildRoutingTable } from '../../core/routing/table';
import type { FeedbackTask } from '../../schemas/generated/types';
import { perfIndex } from './routing/fixtures';
import { readLogFrom, selectFeedbackRequests } from '../../core/feedback-selection';

const OPTIONS = { min_score: 0.5, min_similarity: 0.35, max_tasks: 10 };

function request(id: string, prompt: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ type: 'request', request_id: id, prompt_sha256: prompt.repeat(64).slice(0, 64), model: 'm', cluster: 0, table_version: 'rt-1', status: 200, cluster_similarity: 0.9, ...extra });
}
const feedback = (id: string, score: number) => JSON.stringify({ type: 'feedback', request_id: id, score });

describe('selectFeedbackRequests', () => {
  it('keeps low-scored and far-from-every-cluster requests, once per prompt', () => {
    const lines = [
      request('r1', 'a'),
      feedback('r1', 0.2),
      request('r2', 'b'),
      feedback('r2', 0.9),
      request('r3', 'c', { cluster_similarity: 0.1 }),
      request('r4', 'a'),
      feedback('r4', 0.1),
      request('r5', 'd', { status: 502, cluster_similarity: 0 }),
      '{"type":"request", truncated',
    ];
    const selection = selectFeedbackRequests(lines, OPTIONS);
    expect(selection.requestsRead).toBe(5);
    expect(selection.lowScore).toBe(2);
    expect(selection.newCluster).toBe(1);
    expect(selection.selected.map((s) => [s.request_id, s.reason])).toEqual([
      ['r1', 'low_score'],
      ['r3', 'new_cluster'],
    ]);
  });

  it('counts a request by its lowest score and caps the tasks', () => {
    const lines = [request('r1', 'a'), feedback('r1', 0.9), feedback('r1', 0.3), request('r2', 'b', { cluster_similarity: 0 })];
    expect(selectFeedbackRequests(lines, { ...OPTIONS, max_tasks: 1 }).selected).toEqual([expect.objectContaining({ request_id: 'r1', score: 0.3 })]);
  });
});

describe('readLogFrom', () => {
  it('reads complete lines from the cursor and stops before a partial last line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-feedback-'));
    const log = path.join(dir, 'requests.jsonl');
    fs.writeFileSync(log, 'one\ntwo\nthr');
    const first = await readLogFrom({ request_log: log, offset: 0 });
    expect(first.lines).toEqual(['one', 'two']);
    fs.appendFileSync(log, 'ee\nfour\n');
    const second = await readLogFrom(first.next);
    expect(second.lines).toEqual(['three', 'four']);
    fs.writeFileSync(log, 'new\n');
    expect((await readLogFrom(second.next)).lines).toEqual(['new']);
    expect((await readLogFrom({ request_log: path.join(dir, 'absent'), offset: 0 })).lines).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });
});

it('lastUserText takes the last user message, joining text parts', () => {
  expect(lastUserText([{ role: 'user', content: 'first' }, { role: 'assistant', content: 'x' }, { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }])).toBe('a\nb');
  expect(lastUserText([{ role: 'system', content: 'only' }])).toBe('only');
});

describe('collectFeedbackTasks', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'collect-feedback-'));
  const saved = process.env.LLMLOOP_DATA_DIR;
  beforeAll(() => {
    process.env.LLMLOOP_DATA_DIR = dataDir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.LLMLOOP_DATA_DIR;
    else process.env.LLMLOOP_DATA_DIR = saved;
  });

  it('gives each low-scored task the task type of the cluster that served it, and none to new-cluster traffic', async () => {
    const store = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
    const index = perfIndex({ 0: { m: { quality: 0.9, cost: 0.01 } }, 1: { m: { quality: 0.8, cost: 0.01 } } });
    const typed = { ...index, clusters: index.clusters.map((c) => ({ ...c, task_types: (c.id === 0 ? { summary: 4 } : { rewrite: 3 }) as Record<string, number> })) };
    const table = buildRoutingTable(typed, {}, { createdAt: '2026-12-06T00:00:00Z' });
    await TableStore.inDataDir(dataDir, store).publish({ version: table.version, table: await store.putJson(table), published_at: '2026-12-06T00:00:00Z', perf_index_version: table.perf_index_version, embedding_model: table.embedding_model });
    const prompt = async (text: string) => (await store.putJson([{ role: 'user', content: text }])).sha256;
    const log = path.join(dataDir, 'requests.jsonl');
    const logged = (id: string, sha: string, cluster: number, similarity: number) =>
      JSON.stringify({ type: 'request', request_id: id, prompt_sha256: sha, model: 'm', cluster, table_version: table.version, status: 200, cluster_similarity: similarity });
    fs.writeFileSync(
      log,
      [logged('r1', await prompt('Summarize the report.'), 0, 0.9), feedback('r1', 0.1), logged('r2', await prompt('Make this formal.'), 1, 0.9), feedback('r2', 0.2), logged('r3', await prompt('Something new entirely.'), 0, 0.05)].join('\n') + '\n',
    );
    const result = await collectFeedbackTasks({ request_log: log });
    const tasks = (await store.get(result.tasks_ref!)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as FeedbackTask);
    expect(tasks.map((t) => [t.request_id, t.reason, t.task_type])).toEqual([
      ['r1', 'low_score', 'summary'],
      ['r2', 'low_score', 'rewrite'],
      ['r3', 'new_cluster', undefined],
    ]);
  });
});
