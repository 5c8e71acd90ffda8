import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { formatManifest } from '../../../cli/commands/dataset';
import { LocalArtifactStore } from '../../../core/artifacts';
import { buildDatasetLocally, resolveBuildConfig, type FinalizedDataset } from '../../../core/dataset';
import { parseVerdicts, readReviewRows, renderReviewHtml, renderReviewMarkdown, sampleRows, writeReviewSheet, type ReviewRow, type ReviewSheet } from '../../../core/dataset/review';
import { TypedError } from '../../../core/errors';
import { schemaProblems } from '../../../core/schemas';
import type { DatasetManifest, DatasetRejection } from '../../../schemas/generated/types';
import { allFixtureDocuments, makeDocument } from '../../fixtures/dataset/documents';

const store = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-review-')));
const inputs = allFixtureDocuments.map((d) => ({ input: d.source.path, value: d as unknown }));
const build = (documents = inputs, verdictsText?: string) =>
  buildDatasetLocally(documents, { config: resolveBuildConfig({}), store, ...(verdictsText !== undefined ? { verdicts: parseVerdicts(verdictsText, 'verdicts.jsonl') } : {}) });

/** The review rows of a build, read from its export files as `dataset review DIR` reads them. */
function rowsOf(built: FinalizedDataset): Promise<ReviewRow[]> {
  const byFile = new Map(built.files.map((f) => [f.file, f.content]));
  return readReviewRows(built.manifest, async (entry) => byFile.get(entry.file)!);
}

const verdictLines = (...rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function invalidRequest(fn: () => unknown): TypedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TypedError);
    expect((err as TypedError).type).toBe('InvalidRequest');
    return err as TypedError;
  }
  throw new Error('expected an InvalidRequest');
}

describe('dataset review: rows and sampling', () => {
  it('reads every accepted sample once, with its passage, instruction, answer and source', async () => {
    const built = await build();
    const rows = await rowsOf(built);
    expect(rows.map((r) => r.id).sort()).toEqual(built.samples.map((s) => s.id).sort());
    const summary = rows.find((r) => r.task_type === 'summary' && r.provenance.source_path === 'fixtures/maintenance-report.docx')!;
    expect(summary.instruction).toMatch(/^Summarize/);
    expect(summary.passage).toContain('coolant pump');
    expect(summary.provenance.units).toEqual(['page 1']);
    const ranking = rows.find((r) => r.task_type === 'ranking')!;
    expect(ranking.rejected).toBeDefined();
    expect(ranking.answer).not.toBe(ranking.rejected);
  });

  it('keeps a production prompt (feedback row) whole: it has no passage, its blank lines are its own', async () => {
    const provenance = { source_path: 'feedback/x.jsonl', units: [], block_ids: ['t1'], chunk_id: 'feedback-x-0', engine: 'teacher', generator: 'm/feedback@1', operator: null, round: 0, judge_score: null };
    const row = (id: string, prompt: string, feedback: object | null) => JSON.stringify({ messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: 'answer' }], id, task_type: 'reasoning', language: 'en', split: 'train', labels: [], source_sha256: 'a'.repeat(64), provenance: { ...provenance, feedback } });
    const text = [row('f', 'First part.\n\nSecond part?', { task_id: 't1', request_id: 'r1' }), row('d', 'Summarize "X".\n\nThe passage.', null)].join('\n');
    const manifest = { exports: [{ file: 'trl/sft/train.jsonl', format: 'trl-sft' }] } as unknown as DatasetManifest;
    const [feedback, document] = await readReviewRows(manifest, async () => text);
    expect(feedback).toMatchObject({ instruction: 'First part.\n\nSecond part?', passage: '' });
    expect(document).toMatchObject({ instruction: 'Summarize "X".', passage: 'The passage.' });
  });

  it('samples deterministically by seed, and stratifies across task types', async () => {
    const rows = await rowsOf(await build());
    const ids = (seed: number, size = 10) => sampleRows(rows, size, seed).map((r) => r.id);
    expect(ids(7)).toEqual(ids(7));
    expect(ids(7)).toEqual(sampleRows([...rows].reverse(), 10, 7).map((r) => r.id));
    expect(ids(7)).not.toEqual(ids(8));
    const types = new Set(rows.map((r) => r.task_type));
    const perType = new Map<string, number>();
    for (const r of sampleRows(rows, types.size * 2, 7)) perType.set(r.task_type, (perType.get(r.task_type) ?? 0) + 1);
    expect([...perType.keys()].sort()).toEqual([...types].sort());
    const most = Math.max(...perType.values());
    for (const [type, n] of perType) expect(n === rows.filter((r) => r.task_type === type).length || n >= most - 1).toBe(true);
    expect(sampleRows(rows, rows.length + 5, 7)).toHaveLength(rows.length);
  });
});

describe('dataset review: the sheet', () => {
  const hostile = makeDocument('fixtures/<img src=x onerror=alert(1)>.docx', 'docx', [
    ['heading', 'Incident "log" </pre><script>alert(1)</script>', 1],
    ['paragraph', 'The operator pasted <script>alert("xss")</script> into the form. The ``` fence and & ampersand stay text. Therefore the filter must escape markup.'],
  ]);

  async function hostileSheet(): Promise<ReviewSheet> {
    const built = await build([{ input: 'hostile', value: hostile }]);
    const rows = await rowsOf(built);
    return { version: built.manifest.version, seed: 1, population: rows.length, rows };
  }

  it('escapes untrusted document text: no markup from a passage reaches the page', async () => {
    const sheet = await hostileSheet();
    expect(sheet.rows.length).toBeGreaterThan(0);
    const html = renderReviewHtml(sheet);
    expect(html.match(/<script>/g)).toHaveLength(1); // the sheet's own script only
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</pre><script>');
    expect(html).toContain('&#60;script&#62;alert(&#34;xss&#34;)&#60;/script&#62;');
    expect(html).toContain('&#38; ampersand');
  });

  it('is self-contained: inline style and script, a CSP that forbids every fetch, no external reference', async () => {
    const html = renderReviewHtml(await hostileSheet());
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
    expect(html).not.toMatch(/<[^>]*\s(?:src|href)=/);
    expect(html).not.toMatch(/https?:\/\//);
    const script = html.slice(html.indexOf('<script>') + '<script>'.length, html.indexOf('</script>'));
    expect(() => new vm.Script(script)).not.toThrow();
    for (const key of ["j:", "k:", 'ArrowDown', 'ArrowUp', "g:", "b:", "e:", 'localStorage', 'new Blob', "'verdicts.jsonl'"]) expect(script).toContain(key);
    expect(html).toContain(`data-storage-key="llmloop-review:${(await hostileSheet()).version}"`);
  });

  it('the Markdown twin lists the same rows, untrusted text inside fences longer than any backtick run', async () => {
    const sheet = await hostileSheet();
    const markdown = renderReviewMarkdown(sheet);
    for (const row of sheet.rows) expect(markdown).toContain(row.id);
    expect(markdown.match(/^## \d+\./gm)).toHaveLength(sheet.rows.length);
    expect(markdown).toContain('````text\nThe operator pasted <script>');
  });

  it('writes the sheet and its twin atomically, next to each other', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-sheet-'));
    const written = await writeReviewSheet(await hostileSheet(), path.join(dir, 'review.html'));
    expect(written).toEqual({ html: path.join(dir, 'review.html'), markdown: path.join(dir, 'review.md') });
    expect(fs.readdirSync(dir).sort()).toEqual(['review.html', 'review.md']);
  });
});

describe('dataset review: verdicts', () => {
  it('refuses a malformed verdicts file with a typed InvalidRequest naming the line', () => {
    expect(invalidRequest(() => parseVerdicts('{"id":"a","verdict":"good"}\nnot json\n', 'v.jsonl')).message).toContain('v.jsonl line 2 is not JSON');
    expect(invalidRequest(() => parseVerdicts('{"id":"a","verdict":"maybe"}\n', 'v.jsonl')).message).toContain('line 1 is not a DatasetVerdict');
    invalidRequest(() => parseVerdicts('{"id":"a","verdict":"good","score":1}\n', 'v.jsonl'));
    invalidRequest(() => parseVerdicts('{"verdict":"bad"}\n', 'v.jsonl'));
    expect(invalidRequest(() => parseVerdicts(verdictLines({ id: 'a', verdict: 'good' }, { id: 'a', verdict: 'bad' }), 'v.jsonl')).message).toContain('earlier line marked it good');
  });

  it('accepts a repeated id with the same verdict (concatenated reviews) and blank lines', () => {
    const verdicts = parseVerdicts(verdictLines({ id: 'a', verdict: 'bad' }) + '\n' + verdictLines({ id: 'a', verdict: 'bad', note: 'wrong page' }, { id: 'b', verdict: 'good' }), 'v.jsonl');
    expect([...verdicts.byId.keys()]).toEqual(['a', 'b']);
    expect(verdicts.byId.get('a')!.note).toBe('wrong page');
    expect(verdicts.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a rebuild excludes the rows marked bad, counts them as review_bad and reports the precision', async () => {
    const first = await build();
    const rows = sampleRows(await rowsOf(first), 3, 5);
    const [bad, good1, good2] = rows.map((r) => r.id);
    const text = verdictLines({ id: bad!, verdict: 'bad', note: 'answer misses the point' }, { id: good1!, verdict: 'good' }, { id: good2!, verdict: 'good' }, { id: 'no-such-sample', verdict: 'good' });

    const second = await build(inputs, text);
    const splitOf = (built: FinalizedDataset) => built.samples.map((s) => `${s.id} ${s.split}`).sort();
    expect(splitOf(second)).toEqual(splitOf(first).filter((row) => !row.startsWith(`${bad} `)));
    const { counts, review } = second.manifest;
    expect(counts.rejected_by_reason.review_bad).toBe(1);
    expect(counts.accepted).toBe(first.manifest.counts.accepted - 1);
    expect(counts.generated).toBe(first.manifest.counts.generated);
    const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    expect(counts.generated).toBe(counts.accepted + sum(counts.rejected_by_reason) + sum(counts.failed_by_error));
    expect(review).toEqual({ verdicts: parseVerdicts(text, 'x').sha256, marked: 4, good: 3, bad: 1, precision: 0.75, excluded: 1, unmatched: 1 });
    expect(schemaProblems('DatasetManifest', second.manifest)).toEqual([]);
    expect(formatManifest(second.manifest)).toContain('marked 4 = good 3 + bad 1, precision 0.750; excluded 1; 1 marked ids are not in this build');
    const rejection = second.files.find((f) => f.file === 'rejections.jsonl')!.content.trim().split('\n').map((l) => JSON.parse(l) as DatasetRejection).find((r) => r.reason === 'review_bad')!;
    expect(rejection).toMatchObject({ outcome: 'rejected', detail: 'answer misses the point', sample: { id: bad } });
    expect(first.manifest.review).toBeUndefined();
  });

  it('sample ids are stable across rebuilds of the same inputs and config, so verdicts apply', async () => {
    const ids = async () => (await build()).samples.map((s) => s.id).sort();
    expect(await ids()).toEqual(await ids());
  });
});
