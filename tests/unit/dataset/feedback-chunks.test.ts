/**
 * Feedback tasks (production prompts) in the dataset build, without Temporal. The teacher here is a
 * local HTTP endpoint speaking the Chat Completions protocol whose answer is a function of the prompt,
 * so each gate can be hit on purpose; the real SmolLM2 teacher answers them in
 * tests/integration/build-dataset-feedback.test.ts.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LocalArtifactStore, sha256Hex } from '../../../core/artifacts';
import { buildDatasetLocally, resolveBuildConfig, type FeedbackBatch } from '../../../core/dataset';
import { FEEDBACK_CHUNK_SIZE, feedbackDrafts, parseFeedbackJsonl, planFeedback } from '../../../core/dataset/feedback-chunks';
import { ChatClient } from '../../../core/llm/client';
import { schemaProblems } from '../../../core/schemas';
import type { DatasetBuildConfig, DatasetRejection, FeedbackTask } from '../../../schemas/generated/types';
import { allFixtureDocuments } from '../../fixtures/dataset/documents';

const store = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-feedback-unit-')));
const documents = allFixtureDocuments.map((d) => ({ input: d.source.path, value: d as unknown }));

function task(n: number, prompt: string, extra: Partial<FeedbackTask> = {}): FeedbackTask {
  return { id: `fb-${sha256Hex(prompt).slice(0, 16)}`, prompt, messages: [{ role: 'user', content: prompt }], reason: 'low_score', score: 0.2, cluster: 1, model: 'm', request_id: `req-${n}`, table_version: 'rt-1', ...extra };
}

const tasks = [
  task(1, 'How should an employee report a suspected data leak outside office hours?'),
  task(2, '员工在下班时间发现疑似数据泄露，应该如何上报？', { reason: 'new_cluster', score: undefined, similarity: 0.1 }),
  task(3, 'Which approvals does a purchase above the department budget need?'),
  // The teacher answers this one in English: refused by the language gate.
  task(4, '报销单需要哪些审批？ ANSWER_IN_ENGLISH'),
  // The teacher answers this one with a word: refused by the length gate.
  task(5, 'Is remote work allowed? ANSWER_SHORT'),
];
const batch = (rows: unknown[]): FeedbackBatch => ({ tasks_sha256: sha256Hex(JSON.stringify(rows)), rows });

/** Answers `{"answer": ...}` from the last user message: Chinese for Chinese prompts unless told otherwise. */
async function promptEchoingTeacher() {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const { messages } = JSON.parse(raw) as { messages: { role: string; content: string }[] };
      const prompt = messages[messages.length - 1]!.content;
      const answer = prompt.includes('ANSWER_SHORT')
        ? 'Yes.'
        : /[\u4e00-\u9fff]/.test(prompt) && !prompt.includes('ANSWER_IN_ENGLISH')
          ? `关于这个问题：${prompt}。请按公司制度处理，并及时通知主管和信息安全部门。`
          : `Regarding "${prompt}": follow the written policy and tell your manager and the security team promptly.`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: JSON.stringify({ answer }) } }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('feedback tasks -> drafts', () => {
  it('makes one reasoning teacher draft per valid task, the production prompt as the whole instruction, with its provenance', () => {
    const jsonl = [...tasks, { id: 'broken' }].map((t) => JSON.stringify(t)).join('\n') + '\n{"id": \n\n';
    const input = batch(parseFeedbackJsonl(jsonl));
    const { chunks, feedback, skipped } = planFeedback(input);
    expect(feedback.tasks).toHaveLength(tasks.length);
    expect(skipped).toEqual([
      { input: `feedback ${input.tasks_sha256} line 6`, reason: expect.stringMatching(/^not a FeedbackTask: .*prompt/) },
      { input: `feedback ${input.tasks_sha256} line 7`, reason: expect.stringMatching(/^not JSON: /) },
    ]);
    expect(chunks).toHaveLength(1);

    const drafts = feedbackDrafts(chunks[0]!, feedback.tasks, 'teacher-m');
    expect(drafts.map((d) => d.instruction)).toEqual(tasks.map((t) => t.prompt));
    expect(drafts.every((d) => d.task_type === 'reasoning' && d.engine === 'teacher' && d.passage === '' && d.generator === 'teacher-m/feedback@1')).toBe(true);
    expect(drafts.map((d) => d.language)).toEqual(['en', 'zh', 'en', 'zh', 'en']);
    expect(drafts[1]!.feedback).toEqual({ tasks_sha256: input.tasks_sha256, task_id: tasks[1]!.id, request_id: 'req-2', reason: 'new_cluster', score: null });
  });

  it('keeps the task type of the cluster the request was routed to, where a production prompt can carry it', () => {
    const typed = [task(1, 'Summarize: the pump failed twice.', { task_type: 'summary' }), task(2, 'Rewrite formally: it is ok.', { task_type: 'rewrite' }), task(3, 'Which label fits?', { task_type: 'classification' }), task(4, 'Why did it fail?')];
    const { chunks, feedback } = planFeedback(batch(typed));
    // Classification needs a label set the prompt does not carry, and an untyped task is an open question.
    expect(feedbackDrafts(chunks[0]!, feedback.tasks, 'teacher-m').map((d) => d.task_type)).toEqual(['summary', 'rewrite', 'reasoning', 'reasoning']);
  });

  it('fans out in chunks of FEEDBACK_CHUNK_SIZE and drops a repeated task id with the reason', () => {
    const many = Array.from({ length: FEEDBACK_CHUNK_SIZE + 3 }, (_, i) => task(i, `Question number ${i} about the travel policy?`));
    const { chunks, skipped } = planFeedback(batch([...many, many[0]]));
    expect(chunks.map((c) => c.block_ids.length)).toEqual([FEEDBACK_CHUNK_SIZE, 3]);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(2);
    expect(skipped).toEqual([{ input: expect.stringContaining(`line ${many.length + 1}`), reason: expect.stringContaining('same task id') }]);
  });
});

describe('buildDatasetLocally with feedback tasks', () => {
  let teacher: Awaited<ReturnType<typeof promptEchoingTeacher>>;
  beforeAll(async () => {
    teacher = await promptEchoingTeacher();
  });
  afterAll(async () => {
    await teacher.close();
  });

  // The documents use templates only (max_chunks 0): every teacher call here is a feedback task's.
  const build = async (feedback: FeedbackBatch, withTeacher: boolean, overrides: Partial<DatasetBuildConfig> = {}) => {
    const config = resolveBuildConfig({ ...overrides, ...(withTeacher ? { teacher: { url: teacher.url, model: 'teacher-m', max_chunks: 0 } } : {}) });
    const client = withTeacher ? new ChatClient({ baseUrl: teacher.url, model: 'teacher-m' }) : undefined;
    return buildDatasetLocally(documents, { config, store, feedback, ...(client ? { teacher: client } : {}) });
  };
  const rejectionsOf = (files: { file: string; content: string }[]) =>
    files.find((f) => f.file === 'rejections.jsonl')!.content.trim().split('\n').map((l) => JSON.parse(l) as DatasetRejection);

  it('answers with the teacher, gates the answers (no grounding), puts them in train only and exports them', async () => {
    const input = batch(tasks);
    const { manifest, samples, files } = await build(input, true);
    const fromFeedback = samples.filter((s) => s.provenance.feedback);
    expect(fromFeedback.map((s) => s.provenance.feedback!.request_id).sort()).toEqual(['req-1', 'req-2', 'req-3']);
    expect(fromFeedback.every((s) => s.split === 'train' && s.task_type === 'reasoning' && s.provenance.source_sha256 === input.tasks_sha256)).toBe(true);
    expect(fromFeedback.find((s) => s.provenance.feedback!.request_id === 'req-2')!.language).toBe('zh');
    // Pinning feedback rows to train leaves the documents' split assignment as it is without them.
    const documentSplits = (built: typeof samples) => new Map(built.filter((s) => !s.provenance.feedback).map((s) => [s.provenance.source_sha256, s.split]));
    const withoutFeedback = await build(batch([]), true);
    expect(documentSplits(samples)).toEqual(documentSplits(withoutFeedback.samples));
    expect(new Set(documentSplits(samples).values()).size).toBeGreaterThan(1);

    const refused = rejectionsOf(files).filter((r) => r.generator === 'teacher-m/feedback@1');
    expect(refused.map((r) => r.reason).sort()).toEqual(['language_mismatch', 'too_short']);
    expect(manifest.by_source[input.tasks_sha256]).toBe(3);
    expect(manifest.counts.generated).toBe(manifest.counts.accepted + sum(manifest.counts.rejected_by_reason) + sum(manifest.counts.failed_by_error));
    expect(schemaProblems('DatasetManifest', manifest)).toEqual([]);

    const rowsWithFeedback = (file: string) => files.find((f) => f.file === file)!.content.trim().split('\n').filter((l) => l && JSON.parse(l).provenance.feedback);
    expect(rowsWithFeedback('trl/sft/train.jsonl')).toHaveLength(3);
    expect(rowsWithFeedback('llamafactory/sft_alpaca_train.jsonl')).toHaveLength(3);
    for (const file of ['trl/sft/validation.jsonl', 'trl/sft/test.jsonl', 'trl/grpo/validation.jsonl', 'trl/grpo/test.jsonl']) expect(rowsWithFeedback(file)).toHaveLength(0);
  });

  it('keeps feedback rows in train even when the split ratios send every document to evaluation', async () => {
    const { samples, manifest } = await build(batch(tasks), true, { split_ratios: { train: 0, validation: 1, test: 0 } });
    expect(new Set(samples.filter((s) => s.provenance.feedback).map((s) => s.split))).toEqual(new Set(['train']));
    expect(manifest.by_split).toEqual({ train: 3, validation: samples.length - 3 });
  });

  it('refuses a repeated production prompt as a near-duplicate across the dataset', async () => {
    const again = task(9, `${tasks[0]!.prompt} `, { id: 'fb-repeat' });
    const { files, samples } = await build(batch([tasks[0], again]), true);
    expect(samples.filter((s) => s.provenance.feedback)).toHaveLength(1);
    expect(rejectionsOf(files).filter((r) => r.generator === 'teacher-m/feedback@1').map((r) => r.reason)).toEqual(['near_duplicate']);
  });

  it('without a teacher records every task as rejected with no_teacher_for_feedback, keeping the counts identity', async () => {
    const { manifest, samples } = await build(batch(tasks), false);
    expect(samples.filter((s) => s.provenance.feedback)).toHaveLength(0);
    expect(manifest.counts.rejected_by_reason.no_teacher_for_feedback).toBe(tasks.length);
    expect(manifest.counts.generated).toBe(manifest.counts.accepted + sum(manifest.counts.rejected_by_reason) + sum(manifest.counts.failed_by_error));
  });
});
