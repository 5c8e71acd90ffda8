/**
 * Scores the parser on the shared corpus against its truth files.
 *
 *   npm run score:corpus [-- --json]      (corpus: $LLMLOOP_SHARED_DIR/corpus, default ../shared/corpus)
 *
 * Exact checks come from truth/*.facts.json (pages, encryption, text layer, sheets and merged
 * ranges, DOCX headings by style and merge counts, slides and titles). Text is compared with peer
 * outputs (docling Markdown, markitdown, officeparser text, the companion CSV) as bag-of-tokens F1,
 * which tolerates their different layout conventions. PDF heading levels are not scored: docling's
 * PDF truth puts every heading at level 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../core/config';
import { TypedError } from '../core/errors';
import { parseDocument } from '../core/parse';
import type { DocumentModel } from '../schemas/generated/types';

export interface FileScore {
  file: string;
  format: string;
  ok: boolean;
  error?: string;
  /** Bag-of-tokens F1 against the peer text, when the corpus has one. */
  text_f1?: number;
  text_truth?: string;
  heading_recall?: number;
  heading_level_accuracy?: number;
  /** Sheets whose merged ranges equal the declared ones exactly, over all sheets. */
  merged_exact?: number;
  /** Each count compared: [name, expected, got]. */
  counts: [string, number | string, number | string][];
  /** Verdicts compared (needs_ocr pages, encryption): [name, expected, got]. */
  verdicts: [string, string, string][];
  ms: number;
}

interface PdfFacts {
  pages: string;
  encrypted: string;
  pages_without_text_layer: number[];
  opened_with_user_password?: string;
}
interface Facts {
  pdf?: PdfFacts;
  docx?: { headings: { level: number; text: string }[]; tables_total_incl_nested: number; vMerge_elements: number; gridSpan_elements: number; header_footer_parts: Record<string, string> };
  pptx?: { slide_count: number; slides: { title: string; charts: number; tables: number; notes_chars: number }[] };
  xlsx?: { sheets: { name: string; kind: string; merged_ranges: string[] }[] };
  encrypted_ooxml?: boolean;
}

export function corpusDir(): string {
  return path.join(process.env.LLMLOOP_SHARED_DIR ?? path.join(REPO_ROOT, '..', 'shared'), 'corpus');
}

/** Lower-cased word tokens; every CJK character is a token of its own. */
export function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[\p{L}\p{N}]+/gu) ?? []);
}

export function bagF1(predicted: string[], truth: string[]): number {
  if (!predicted.length && !truth.length) return 1;
  const counts = new Map<string, number>();
  for (const t of truth) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of predicted) {
    const n = counts.get(t) ?? 0;
    if (n > 0) (overlap++, counts.set(t, n - 1));
  }
  if (!overlap) return 0;
  const precision = overlap / predicted.length;
  const recall = overlap / truth.length;
  return (2 * precision * recall) / (precision + recall);
}

const TEXT_TRUTHS = ['docling.md', 'markitdown.md', 'officeparser.txt', 'csv'];

function truthText(truthDir: string, stem: string): { kind: string; text: string } | undefined {
  for (const kind of TEXT_TRUTHS) {
    const file = path.join(truthDir, `${stem}.${kind}`);
    if (!fs.existsSync(file)) continue;
    let text = fs.readFileSync(file, 'utf8');
    // Markdown scaffolding and image placeholders are not document text.
    if (kind.endsWith('md')) text = text.replace(/<!--.*?-->/g, ' ').replace(/^\s*\|?[\s|:-]+\|?\s*$/gm, ' ');
    // The CSV's first column is the pandas index, not sheet content.
    if (kind === 'csv') text = text.replace(/^\d+,/gm, '');
    return { kind, text };
  }
  return undefined;
}

function modelText(model: DocumentModel): string {
  return model.blocks.map((b) => b.text).join('\n');
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

export async function scoreFile(file: string, truthDir: string): Promise<FileScore> {
  const stem = path.basename(file).replace(/\.[^.]+$/, '');
  const format = path.extname(file).slice(1);
  const facts = JSON.parse(fs.readFileSync(path.join(truthDir, `${stem}.facts.json`), 'utf8')) as Facts;
  const score: FileScore = { file: path.basename(file), format, ok: false, counts: [], verdicts: [], ms: 0 };
  const bytes = fs.readFileSync(file);
  const started = performance.now();
  let model: DocumentModel | undefined;
  try {
    model = await parseDocument(bytes, { path: file });
    score.ok = true;
  } catch (err) {
    score.error = err instanceof TypedError ? err.type : String(err);
  }
  score.ms = Math.round(performance.now() - started);

  const encryptedPdf = facts.pdf?.encrypted.startsWith('yes');
  if (encryptedPdf || facts.encrypted_ooxml) {
    score.verdicts.push(['encrypted without password', 'EncryptedDocument', score.error ?? 'parsed']);
    const password = facts.pdf?.opened_with_user_password;
    if (password !== undefined) {
      model = await parseDocument(bytes, { path: file, password }).catch(() => undefined);
      score.verdicts.push(['opens with password', 'parsed', model ? 'parsed' : 'failed']);
      score.ok = model !== undefined;
    }
  }
  if (!model) return score;

  const text = truthText(truthDir, stem);
  if (text) {
    score.text_f1 = round(bagF1(tokens(modelText(model)), tokens(text.text)));
    score.text_truth = text.kind;
  }
  const units = (kind: string) => model!.units.filter((u) => u.kind === kind).length;
  const headings = model.blocks.filter((b) => b.type === 'heading');

  if (facts.pdf) {
    score.counts.push(['pages', Number(facts.pdf.pages), units('page')]);
    const needsOcr = model.warnings.filter((w) => w.code === 'needs_ocr').map((w) => w.unit).join(',');
    score.verdicts.push(['needs_ocr pages', facts.pdf.pages_without_text_layer.join(','), needsOcr]);
    if (text?.kind === 'docling.md') {
      const truthHeadings = [...fs.readFileSync(path.join(truthDir, `${stem}.docling.md`), 'utf8').matchAll(/^#+\s+(.+)$/gm)].map((m) => norm(m[1]!));
      if (truthHeadings.length) {
        const ours = headings.map((h) => norm(h.text));
        score.heading_recall = round(truthHeadings.filter((t) => ours.some((o) => o.includes(t) || (o.length > 3 && t.includes(o)))).length / truthHeadings.length);
      }
    }
  }
  if (facts.docx) {
    const expected = facts.docx.headings.filter((h) => h.text.trim());
    const found = expected.map((h) => headings.find((b) => norm(b.text).endsWith(norm(h.text))));
    if (expected.length) {
      score.heading_recall = round(found.filter(Boolean).length / expected.length);
      // Word's Title style (outline level 0 in the facts) is a level-1 heading in the model.
      score.heading_level_accuracy = round(expected.filter((h, i) => found[i]?.level === Math.max(1, h.level)).length / expected.length);
    }
    const cells = model.blocks.flatMap((b) => b.cells ?? []);
    score.counts.push(['gridSpan cells', facts.docx.gridSpan_elements, cells.filter((c) => c.col_span > 1).length]);
    score.counts.push(['vMerge cells', facts.docx.vMerge_elements, cells.filter((c) => c.row_span > 1).reduce((n, c) => n + c.row_span, 0)]);
    const furniture = model.blocks.filter((b) => b.type === 'header' || b.type === 'footer').map((b) => norm(b.text));
    const parts = Object.values(facts.docx.header_footer_parts).map(norm);
    score.counts.push(['header/footer texts', parts.length, parts.filter((p) => furniture.includes(p)).length]);
  }
  if (facts.pptx) {
    score.counts.push(['slides', facts.pptx.slide_count, units('slide')]);
    const titled = facts.pptx.slides.filter((s) => s.title.trim());
    if (titled.length) {
      score.heading_recall = round(titled.filter((s) => model!.units.find((u) => u.index === facts.pptx!.slides.indexOf(s) + 1)?.name === s.title.replace(/\s+/g, ' ').trim()).length / titled.length);
    }
    score.counts.push(['charts', facts.pptx.slides.reduce((n, s) => n + s.charts, 0), model.blocks.filter((b) => b.type === 'chart').length]);
    score.counts.push(['tables', facts.pptx.slides.reduce((n, s) => n + s.tables, 0), model.blocks.filter((b) => b.type === 'table').length]);
    score.counts.push(['slides with notes', facts.pptx.slides.filter((s) => s.notes_chars > 0).length, new Set(model.blocks.filter((b) => b.type === 'notes').map((b) => b.unit)).size]);
  }
  if (facts.xlsx) {
    score.counts.push(['sheets', facts.xlsx.sheets.length, units('sheet')]);
    score.counts.push(['sheet names', facts.xlsx.sheets.map((s) => s.name).join('|'), model.units.map((u) => u.name).join('|')]);
    const exact = facts.xlsx.sheets.filter((sheet, i) => {
      const ours = model!.blocks.filter((b) => b.unit === i + 1).flatMap((b) => b.merged ?? []);
      return [...ours].sort().join(',') === [...sheet.merged_ranges].sort().join(',');
    });
    score.merged_exact = round(exact.length / facts.xlsx.sheets.length);
  }
  return score;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export async function scoreCorpus(dir = corpusDir()): Promise<FileScore[]> {
  const inputs = path.join(dir, 'inputs');
  const files = fs.readdirSync(inputs).flatMap((format) => fs.readdirSync(path.join(inputs, format)).sort().map((f) => path.join(inputs, format, f)));
  const scores: FileScore[] = [];
  for (const file of files) scores.push(await scoreFile(file, path.join(dir, 'truth')));
  return scores;
}

export interface FormatSummary {
  format: string;
  files: number;
  parsed: number;
  text_f1?: number;
  heading_recall?: number;
  heading_level_accuracy?: number;
  merged_exact?: number;
  counts_exact: string;
  verdicts_correct: string;
}

export function summarise(scores: FileScore[]): FormatSummary[] {
  const mean = (xs: (number | undefined)[]) => {
    const present = xs.filter((x): x is number => x !== undefined);
    return present.length ? round(present.reduce((a, b) => a + b, 0) / present.length) : undefined;
  };
  return [...new Set(scores.map((s) => s.format))].map((format) => {
    const group = scores.filter((s) => s.format === format);
    const counts = group.flatMap((s) => s.counts);
    const verdicts = group.flatMap((s) => s.verdicts);
    const summary: FormatSummary = {
      format,
      files: group.length,
      parsed: group.filter((s) => s.ok).length,
      counts_exact: `${counts.filter(([, e, g]) => String(e) === String(g)).length}/${counts.length}`,
      verdicts_correct: `${verdicts.filter(([, e, g]) => e === g).length}/${verdicts.length}`,
    };
    const add = (key: 'text_f1' | 'heading_recall' | 'heading_level_accuracy' | 'merged_exact') => {
      const value = mean(group.map((s) => s[key]));
      if (value !== undefined) summary[key] = value;
    };
    add('text_f1');
    add('heading_recall');
    add('heading_level_accuracy');
    add('merged_exact');
    return summary;
  });
}

function table(rows: Record<string, unknown>[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined ? '' : Array.isArray(v) ? v.map((x) => (Array.isArray(x) ? `${x[0]} ${x[1]}→${x[2]}` : String(x))).join('; ') : String(v));
  return [`| ${keys.join(' | ')} |`, `| ${keys.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  const scores = await scoreCorpus();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ files: scores, formats: summarise(scores) }, null, 1));
    return;
  }
  console.log(`## Per format (${new Date().toISOString().slice(0, 10)})\n\n${table(summarise(scores) as unknown as Record<string, unknown>[])}\n`);
  const perFile = scores.map(({ file, ok, error, text_f1, text_truth, heading_recall, heading_level_accuracy, merged_exact, counts, verdicts, ms }) => ({
    file,
    ok: ok ? 'ok' : error,
    text_f1: text_f1 === undefined ? undefined : `${text_f1} (${text_truth})`,
    heading_recall,
    heading_level_accuracy,
    merged_exact,
    mismatches: [...counts, ...verdicts].filter(([, e, g]) => String(e) !== String(g)),
    ms,
  }));
  console.log(`## Per file\n\n${table(perFile)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
