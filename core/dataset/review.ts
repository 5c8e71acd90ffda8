/**
 * Dataset review, the way Argilla or Label Studio users expect it but with no server: a seeded,
 * stratified sample of a built dataset's rows rendered as one self-contained HTML sheet (and a
 * Markdown twin) where a reviewer marks rows good or bad from the keyboard and exports the marks as
 * verdicts JSONL (`DatasetVerdict` rows). A rebuild given those verdicts excludes the rows marked bad
 * (`rejected: review_bad`) and records the review's precision in the manifest.
 */
import path from 'node:path';
import { writeFileAtomically } from '../atomic-file';
import { sha256Hex } from '../artifacts';
import { TypedError } from '../errors';
import { escapeHtml } from '../report/svg';
import { schemaProblems } from '../schemas';
import type { DatasetExport, DatasetLanguage, DatasetManifest, DatasetRejection, DatasetReview, DatasetSample, DatasetSplit, DatasetVerdict, TaskType } from '../../schemas/generated/types';

/** Provenance as every export row carries it (exports.ts). */
interface ExportProvenance {
  source_path: string;
  units: string[];
  block_ids: string[];
  chunk_id: string;
  engine: string;
  generator: string;
  operator: string | null;
  round: number;
  judge_score: number | null;
  feedback: { task_id: string; request_id: string } | null;
}

interface ExportRow {
  id: string;
  task_type: TaskType;
  language: DatasetLanguage;
  split: DatasetSplit;
  labels: string[];
  source_sha256: string;
  provenance: ExportProvenance;
  /** trl-sft rows. */
  messages?: { role: string; content: string }[];
  /** trl-preference rows. */
  prompt?: string;
  chosen?: string;
  rejected?: string;
  preference_reason?: string;
}

/** One sample as a reviewer sees it. */
export interface ReviewRow {
  id: string;
  task_type: TaskType;
  language: DatasetLanguage;
  split: DatasetSplit;
  instruction: string;
  /** The source text shown with the instruction; empty when the instruction carries it (reasoning, feedback). */
  passage: string;
  answer: string;
  /** Ranking pairs: the degraded answer and why it is worse. */
  rejected?: string;
  preference_reason?: string;
  source_sha256: string;
  provenance: ExportProvenance;
}

export interface ReviewSheet {
  version: string;
  seed: number;
  /** Accepted samples in the dataset the sample was drawn from. */
  population: number;
  rows: ReviewRow[];
}

/** The exports that hold every accepted sample once: SFT rows (all types but ranking) and preference pairs (ranking). */
const REVIEWED_FORMATS: ReadonlySet<DatasetExport['format']> = new Set(['trl-sft', 'trl-preference']);

/** Every accepted sample of a dataset, read through `readExport` (a file under the dataset folder, or the artifact store). */
export async function readReviewRows(manifest: DatasetManifest, readExport: (entry: DatasetExport) => Promise<string>): Promise<ReviewRow[]> {
  const rows: ReviewRow[] = [];
  for (const entry of manifest.exports.filter((e) => REVIEWED_FORMATS.has(e.format))) {
    const lines = (await readExport(entry)).split('\n');
    lines.forEach((line, i) => {
      if (line.trim()) rows.push(reviewRow(parseExportRow(line, `${entry.file} line ${i + 1}`)));
    });
  }
  return rows;
}

function parseExportRow(line: string, where: string): ExportRow {
  let row: Partial<ExportRow>;
  try {
    row = JSON.parse(line) as Partial<ExportRow>;
  } catch (err) {
    throw new TypedError('InvalidRequest', `${where} is not JSON: ${(err as Error).message}`);
  }
  const hasText = Array.isArray(row.messages) || typeof row.prompt === 'string';
  if (typeof row.id !== 'string' || !row.task_type || !row.provenance || !hasText) throw new TypedError('InvalidRequest', `${where} is not a dataset export row (id, task_type, provenance and messages or prompt expected)`);
  return row as ExportRow;
}

function reviewRow(row: ExportRow): ReviewRow {
  const prompt = row.prompt ?? row.messages?.find((m) => m.role === 'user')?.content ?? '';
  const answer = row.chosen ?? row.messages?.find((m) => m.role === 'assistant')?.content ?? '';
  return {
    id: row.id,
    task_type: row.task_type,
    language: row.language,
    split: row.split,
    ...splitPrompt(prompt, Boolean(row.provenance.feedback)),
    answer,
    ...(row.rejected !== undefined ? { rejected: row.rejected } : {}),
    ...(row.preference_reason !== undefined ? { preference_reason: row.preference_reason } : {}),
    source_sha256: row.source_sha256,
    provenance: row.provenance,
  };
}

/**
 * A document prompt is `instruction + blank line + passage` (renderPrompt); template instructions are
 * one paragraph, so the first blank line separates them. A production prompt (feedback) is all
 * instruction, blank lines included.
 */
function splitPrompt(prompt: string, isFeedback: boolean): { instruction: string; passage: string } {
  const at = isFeedback ? -1 : prompt.indexOf('\n\n');
  return at < 0 ? { instruction: prompt, passage: '' } : { instruction: prompt.slice(0, at), passage: prompt.slice(at + 2) };
}

/**
 * Up to `size` rows, stratified: task types take turns (in name order), each contributing its rows
 * in the order of sha256(seed, id). The order depends on the ids and the seed only, so the same seed
 * over the same dataset (or a rebuild with the same ids) gives the same sample.
 */
export function sampleRows(rows: ReviewRow[], size: number, seed: number): ReviewRow[] {
  const rank = (row: ReviewRow) => sha256Hex(`${seed}\n${row.id}`);
  const byType = new Map<TaskType, { rank: string; row: ReviewRow }[]>();
  for (const row of rows) {
    const ranked = byType.get(row.task_type) ?? [];
    if (!ranked.length) byType.set(row.task_type, ranked);
    ranked.push({ rank: rank(row), row });
  }
  const queues = [...byType].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, ranked]) => ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0)).map((r) => r.row));
  const picked: ReviewRow[] = [];
  for (let depth = 0; picked.length < size && queues.some((q) => depth < q.length); depth++) {
    for (const queue of queues) if (depth < queue.length && picked.length < size) picked.push(queue[depth]!);
  }
  return picked;
}

// ---------------------------------------------------------------------------------------------
// The sheet: HTML (interactive) and Markdown (the same rows, for reading in a diff or a PR)

/** Where the passage comes from, as a reviewer reads it: path, pages/slides/sheets. */
function sourceLine(row: ReviewRow): string {
  const units = row.provenance.units.length ? ` · ${row.provenance.units.join(', ')}` : '';
  return `${row.provenance.source_path}${units}`;
}

function provenanceEntries(row: ReviewRow): [string, string][] {
  const p = row.provenance;
  return [
    ['source sha256', row.source_sha256],
    ['chunk', p.chunk_id],
    ['blocks', p.block_ids.join(', ') || '—'],
    ['engine', p.engine],
    ['generator', p.generator],
    ['operator', p.operator ?? '—'],
    ['round', String(p.round)],
    ['judge score', p.judge_score === null ? '—' : String(p.judge_score)],
    ...(p.feedback ? ([['feedback task', `${p.feedback.task_id} (request ${p.feedback.request_id})`]] as [string, string][]) : []),
  ];
}

/** The text blocks of a row, in reading order, with the headings both renderings use. */
function rowBlocks(row: ReviewRow): [string, string][] {
  const blocks: [string, string][] = [];
  if (row.passage) blocks.push(['Source passage', row.passage]);
  blocks.push(['Instruction', row.instruction]);
  if (row.rejected === undefined) {
    blocks.push(['Answer', row.answer]);
  } else {
    blocks.push(['Chosen answer', row.answer], ['Rejected answer', row.rejected]);
    if (row.preference_reason) blocks.push(['Why rejected', row.preference_reason]);
  }
  return blocks;
}

function typeCounts(rows: ReviewRow[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.task_type, (counts.get(row.task_type) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, n]) => `${type} ${n}`).join(', ');
}

export function storageKey(version: string): string {
  return `llmloop-review:${version}`;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
header.bar{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:8px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap;z-index:1}
header.bar h1{font-size:16px;margin:0}
main{max-width:980px;margin:0 auto;padding:12px 16px 60vh}
section.row{scroll-margin-top:11em;background:#fff;border:1px solid #ccc;border-left:6px solid #ccc;border-radius:4px;margin:12px 0;padding:8px 14px}
section.row.current{box-shadow:0 0 0 3px #5b8def}
section.row.good{border-left-color:#2e9e44}
section.row.bad{border-left-color:#d03b3b;background:#fff6f6}
.meta{color:#555;font-size:13px}
.verdict{font-weight:bold;margin-left:8px}
.good .verdict{color:#2e9e44}
.bad .verdict{color:#d03b3b}
h3{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#666;margin:10px 0 2px}
pre{white-space:pre-wrap;word-break:break-word;font:13px/1.4 ui-monospace,monospace;background:#fafafa;border:1px solid #eee;padding:6px 8px;margin:0;max-height:22em;overflow:auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:0 12px;font-size:12px;margin:4px 0}
dt{color:#666}dd{margin:0;word-break:break-all}
.actions{display:flex;gap:8px;margin-top:8px}
.actions input{flex:1}
kbd{border:1px solid #bbb;border-radius:3px;padding:0 4px;font-size:12px;background:#f3f3f3}
`;

/**
 * The sheet's script: marks live in localStorage under the dataset version (reload-safe, one
 * review per version), the export is a Blob download, keys are ignored while the note field has
 * focus. All text it shows comes from the escaped HTML; it only reads attributes and ids.
 */
const SCRIPT = `
(() => {
  const key = document.body.dataset.storageKey;
  const rows = Array.from(document.querySelectorAll('section.row'));
  let marks = {};
  try { marks = JSON.parse(localStorage.getItem(key) || '{}') || {}; } catch (_) { marks = {}; }
  let current = 0;
  const save = () => { try { localStorage.setItem(key, JSON.stringify(marks)); } catch (_) {} };
  const noteOf = (row) => row.querySelector('input.note');
  const paint = (row) => {
    const mark = marks[row.dataset.id];
    row.classList.toggle('good', mark !== undefined && mark.verdict === 'good');
    row.classList.toggle('bad', mark !== undefined && mark.verdict === 'bad');
    row.querySelector('.verdict').textContent = mark ? mark.verdict : '';
    if (mark && mark.note !== undefined && document.activeElement !== noteOf(row)) noteOf(row).value = mark.note;
  };
  const tally = () => {
    const verdicts = rows.map((r) => marks[r.dataset.id]).filter(Boolean);
    const good = verdicts.filter((m) => m.verdict === 'good').length;
    document.getElementById('tally').textContent = 'marked ' + verdicts.length + '/' + rows.length + ' · good ' + good + ' · bad ' + (verdicts.length - good) +
      ' · precision ' + (verdicts.length ? (good / verdicts.length).toFixed(2) : '—');
  };
  const select = (i) => {
    if (!rows.length) return;
    rows[current].classList.remove('current');
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].classList.add('current');
    rows[current].scrollIntoView({ block: 'start' });
  };
  const mark = (i, verdict) => {
    const row = rows[i];
    const note = noteOf(row).value.trim();
    if (verdict) marks[row.dataset.id] = note ? { verdict, note } : { verdict };
    else delete marks[row.dataset.id];
    save(); paint(row); tally();
  };
  const exportVerdicts = () => {
    const lines = rows.filter((r) => marks[r.dataset.id]).map((r) => {
      const m = marks[r.dataset.id];
      return JSON.stringify(m.note ? { id: r.dataset.id, verdict: m.verdict, note: m.note } : { id: r.dataset.id, verdict: m.verdict });
    });
    const blob = new Blob([lines.map((l) => l + '\\n').join('')], { type: 'application/jsonl' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'verdicts.jsonl';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };
  rows.forEach((row, i) => {
    row.addEventListener('click', () => select(i));
    row.querySelectorAll('button[data-verdict]').forEach((b) => b.addEventListener('click', () => mark(i, b.dataset.verdict)));
    noteOf(row).addEventListener('input', () => { if (marks[row.dataset.id]) mark(i, marks[row.dataset.id].verdict); });
    paint(row);
  });
  document.getElementById('export').addEventListener('click', exportVerdicts);
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement) {
      if (e.key === 'Escape' || e.key === 'Enter') e.target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const actions = {
      j: () => select(current + 1), ArrowDown: () => select(current + 1), ArrowRight: () => select(current + 1),
      k: () => select(current - 1), ArrowUp: () => select(current - 1), ArrowLeft: () => select(current - 1),
      g: () => { mark(current, 'good'); select(current + 1); },
      b: () => { mark(current, 'bad'); select(current + 1); },
      u: () => mark(current, undefined),
      n: () => noteOf(rows[current]).focus(),
      e: exportVerdicts,
    };
    const action = actions[e.key];
    if (!action || !rows.length) return;
    e.preventDefault();
    action();
  });
  // A second sitting resumes at the first row not yet marked.
  history.scrollRestoration = 'manual';
  select(Math.max(0, rows.findIndex((r) => !marks[r.dataset.id])));
  tally();
})();
`;

function htmlRow(row: ReviewRow, index: number, total: number): string {
  const blocks = rowBlocks(row)
    .map(([title, text]) => `<h3>${escapeHtml(title)}</h3><pre>${escapeHtml(text)}</pre>`)
    .join('\n');
  const provenance = provenanceEntries(row)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  return `<section class="row" data-id="${escapeHtml(row.id)}">
<div class="meta"><b>${index + 1}/${total}</b> · <b>${escapeHtml(row.task_type)}</b> · ${escapeHtml(row.language)} · ${escapeHtml(row.split)} · <code>${escapeHtml(row.id)}</code><span class="verdict"></span></div>
<div class="meta">from <b>${escapeHtml(sourceLine(row))}</b></div>
${blocks}
<details><summary>Provenance</summary><dl>${provenance}</dl></details>
<div class="actions"><button type="button" data-verdict="good">good <kbd>g</kbd></button><button type="button" data-verdict="bad">bad <kbd>b</kbd></button><input class="note" type="text" placeholder="note (n; Enter to leave)" aria-label="note"></div>
</section>`;
}

/**
 * One self-contained page: inline CSS and script, and a Content-Security-Policy that forbids every
 * fetch, so a sheet of untrusted document text can neither load nor send anything. All text is
 * escaped; the script never turns data into markup.
 */
export function renderReviewHtml(sheet: ReviewSheet): string {
  const title = `Dataset review ${sheet.version}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body data-storage-key="${escapeHtml(storageKey(sheet.version))}">
<header class="bar"><h1>${escapeHtml(title)}</h1>
<span>${sheet.rows.length} of ${sheet.population} samples, seed ${sheet.seed} (${escapeHtml(typeCounts(sheet.rows))})</span>
<span id="tally"></span>
<button type="button" id="export">export verdicts.jsonl <kbd>e</kbd></button>
<span class="meta"><kbd>j</kbd>/<kbd>k</kbd> or arrows move · <kbd>g</kbd> good · <kbd>b</kbd> bad · <kbd>u</kbd> unmark · <kbd>n</kbd> note</span></header>
<main>
<p class="meta">Marks are kept in this browser for dataset ${escapeHtml(sheet.version)}. Rebuild with <code>llmloop dataset build … --verdicts verdicts.jsonl</code> to exclude the rows marked bad.</p>
${sheet.rows.map((row, i) => htmlRow(row, i, sheet.rows.length)).join('\n')}
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}

/** A code span or fence longer than any backtick run in the text, so document text cannot close it. */
function fenceFor(text: string, minimum: number): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(minimum, longest + 1));
}

function inlineCode(text: string): string {
  const fence = fenceFor(text, 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function markdownRow(row: ReviewRow, index: number): string {
  const blocks = rowBlocks(row).map(([title, text]) => {
    const fence = fenceFor(text, 3);
    return `**${title}**\n\n${fence}text\n${text}\n${fence}`;
  });
  return [
    `## ${index + 1}. ${row.task_type} · ${row.language} · ${row.split}`,
    '',
    `- id: ${inlineCode(row.id)}`,
    `- source: ${inlineCode(sourceLine(row))}`,
    `- provenance: ${provenanceEntries(row).map(([k, v]) => `${k} ${inlineCode(v)}`).join('; ')}`,
    '',
    blocks.join('\n\n'),
  ].join('\n');
}

/** The same rows as the HTML sheet, every untrusted text inside a code fence or span. */
export function renderReviewMarkdown(sheet: ReviewSheet): string {
  return [
    `# Dataset review ${sheet.version}`,
    '',
    `${sheet.rows.length} of ${sheet.population} samples, seed ${sheet.seed} (${typeCounts(sheet.rows)}). Verdicts are JSONL rows ` +
      '`{"id": …, "verdict": "good"|"bad", "note"?: …}` (schemas/dataset-verdict.schema.json); `llmloop dataset build … --verdicts FILE` excludes the rows marked bad.',
    '',
    ...sheet.rows.map((row, i) => `${markdownRow(row, i)}\n`),
  ].join('\n');
}

/** Writes the HTML sheet and its Markdown twin (same name, `.md`), each atomically. */
export async function writeReviewSheet(sheet: ReviewSheet, htmlPath: string): Promise<{ html: string; markdown: string }> {
  const html = path.resolve(htmlPath);
  const markdown = html.replace(/\.html?$/i, '') + '.md';
  await writeFileAtomically(html, renderReviewHtml(sheet));
  await writeFileAtomically(markdown, renderReviewMarkdown(sheet));
  return { html, markdown };
}

// ---------------------------------------------------------------------------------------------
// Verdicts: parsed strictly (a rebuild must not silently ignore a reviewer's marks), applied at finalize

export interface ReviewVerdicts {
  /** sha256 of the verdicts JSONL, recorded in the manifest. */
  sha256: string;
  byId: Map<string, DatasetVerdict>;
}

/**
 * Every non-blank line must be a DatasetVerdict. An id may repeat with the same verdict (two
 * reviewers' files concatenated); conflicting verdicts for one id are refused, since which one
 * should win is the reviewers' call, not the build's.
 */
export function parseVerdicts(text: string, source: string): ReviewVerdicts {
  const byId = new Map<string, DatasetVerdict>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new TypedError('InvalidRequest', `${where} is not JSON: ${(err as Error).message}`);
    }
    const problems = schemaProblems('DatasetVerdict', value);
    if (problems.length) throw new TypedError('InvalidRequest', `${where} is not a DatasetVerdict: ${problems.slice(0, 3).join('; ')}`, { problems });
    const verdict = value as DatasetVerdict;
    const earlier = byId.get(verdict.id);
    if (earlier && earlier.verdict !== verdict.verdict) throw new TypedError('InvalidRequest', `${where} marks ${verdict.id} ${verdict.verdict}, an earlier line marked it ${earlier.verdict}`);
    if (!earlier || (verdict.note && !earlier.note)) byId.set(verdict.id, verdict);
  });
  return { sha256: sha256Hex(text), byId };
}

/**
 * Removes the samples marked bad (each becomes a `review_bad` rejection, the reviewer's note as
 * detail, so the counts identity holds) and summarises the review. Given the finished, split
 * samples, so a rebuild with verdicts is the reviewed dataset minus the bad rows, every other row in
 * the split it had.
 */
export function applyVerdicts(samples: DatasetSample[], verdicts: ReviewVerdicts | undefined): { kept: DatasetSample[]; rejections: DatasetRejection[]; review?: DatasetReview } {
  if (!verdicts) return { kept: samples, rejections: [] };
  const kept: DatasetSample[] = [];
  const rejections: DatasetRejection[] = [];
  for (const sample of samples) {
    const verdict = verdicts.byId.get(sample.id);
    if (verdict?.verdict !== 'bad') {
      kept.push(sample);
      continue;
    }
    const p = sample.provenance;
    rejections.push({ outcome: 'rejected', reason: 'review_bad', detail: verdict.note ?? 'marked bad in review', task_type: sample.task_type, chunk_id: p.chunk_id, generator: p.generator, round: p.round, sample: sample as unknown as Record<string, unknown> });
  }
  const ids = new Set(samples.map((s) => s.id));
  const marked = [...verdicts.byId.values()];
  const good = marked.filter((v) => v.verdict === 'good').length;
  return {
    kept,
    rejections,
    review: {
      verdicts: verdicts.sha256,
      marked: marked.length,
      good,
      bad: marked.length - good,
      precision: marked.length ? good / marked.length : null,
      excluded: rejections.length,
      unmatched: marked.filter((v) => !ids.has(v.id)).length,
    },
  };
}
