/**
 * The scale benchmark's documents: N files cycling through the four formats, each made from a file
 * of the shared corpus of that format, so sizes and structure follow the corpus:
 *  - DOCX, PPTX, XLSX: the corpus package with the words of every text run shuffled (seeded per copy),
 *    so each copy parses like its original but no two copies share a chunk (no cache hits between them);
 *  - PDF: a generated text PDF with the source's page count (capped at MAX_PDF_PAGES) and its pages'
 *    words, shuffled (Helvetica, so non-ASCII text is left out).
 * Left out of the sources: password-protected files (they only fail) and PDFs above MAX_PDF_PAGES.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../core/parse';
import type { DocumentModel } from '../../schemas/generated/types';

export const FORMATS = ['pdf', 'docx', 'pptx', 'xlsx'] as const;
export type Format = (typeof FORMATS)[number];
/** The 400-page PDF alone would take most of a run on 2 cores; the next largest corpus PDF has 9 pages. */
const MAX_PDF_PAGES = 40;

interface Source {
  file: string;
  format: Format;
  bytes: Buffer;
  /** PDF only: the words of each page. */
  pages?: string[][];
}

/** A seeded PRNG (mulberry32), so the same seed makes the same documents. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export async function loadSources(corpusDir: string): Promise<Source[]> {
  const sources: Source[] = [];
  for (const format of FORMATS) {
    const dir = path.join(corpusDir, 'inputs', format);
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.includes('password')) continue;
      const file = path.join(dir, name);
      const bytes = fs.readFileSync(file);
      if (format !== 'pdf') {
        sources.push({ file, format, bytes });
        continue;
      }
      const model = (await parseDocument(bytes, { path: file }).catch(() => undefined)) as DocumentModel | undefined;
      if (!model || model.units.length > MAX_PDF_PAGES) continue;
      const pages = model.units.map((u) => model.blocks.filter((b) => b.unit === u.index).flatMap((b) => b.text.replace(/[^\x20-\x7e]/g, ' ').split(/\s+/).filter(Boolean)));
      if (pages.some((words) => words.length)) sources.push({ file, format, bytes, pages });
    }
  }
  return sources;
}

/** Writes `count` documents into `outDir`; returns their paths. */
export function generateCorpus(sources: Source[], outDir: string, count: number, seed = 1): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const next = random(seed);
  const byFormat = new Map(FORMATS.map((f) => [f, sources.filter((s) => s.format === f)]));
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const format = FORMATS[i % FORMATS.length]!;
    const candidates = byFormat.get(format)!;
    const source = candidates[Math.floor(next() * candidates.length)]!;
    const label = `Copy ${i + 1}:`;
    const bytes = format === 'pdf' ? textPdf(source.pages!.map((words, page) => (page ? [] : [label]).concat(shuffled(words, next)))) : shuffledPackage(source.bytes, label, next);
    const file = path.join(outDir, `doc-${String(i).padStart(4, '0')}-${path.basename(source.file, `.${format}`)}.${format}`);
    fs.writeFileSync(file, bytes);
    files.push(file);
  }
  return files;
}

/** Text runs of WordprocessingML, DrawingML (slides) and SpreadsheetML (shared and inline strings). */
const TEXT_RUN = /(<(?:w:t|a:t|t)(?:\s[^>]*)?>)([^<]+)(<\/(?:w:t|a:t|t)>)/g;

/** The package with every text run's words shuffled and `label` before its first run (so even a package of one-word runs is new content). */
function shuffledPackage(bytes: Buffer, label: string, next: () => number): Uint8Array {
  const files = unzipSync(bytes);
  const out: Zippable = {};
  let labelled = false;
  for (const [name, content] of Object.entries(files)) {
    if (!name.endsWith('.xml') || !/^(word|ppt\/slides|xl)\//.test(name)) {
      out[name] = content;
      continue;
    }
    out[name] = strToU8(
      strFromU8(content).replace(TEXT_RUN, (_m, open: string, text: string, close: string) => {
        const words = shuffled(text.split(' '), next);
        if (!labelled && /^(word\/document|ppt\/slides\/slide|xl\/sharedStrings)/.test(name)) {
          labelled = true;
          words.unshift(label);
        }
        return open + words.join(' ') + close;
      }),
    );
  }
  return zipSync(out);
}

/** A plain PDF: one page per entry, its words in lines of about 90 characters. */
function textPdf(pages: string[][]): Uint8Array {
  const objects: string[] = ['<< /Type /Catalog /Pages 2 0 R >>', '', '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'];
  const kids: number[] = [];
  for (const words of pages) {
    const lines: string[] = [];
    for (const word of words) {
      if (!lines.length || lines[lines.length - 1]!.length + word.length > 90) lines.push(word);
      else lines[lines.length - 1] += ` ${word}`;
    }
    const escaped = lines.slice(0, 60).map((l) => `(${l.replace(/[\\()]/g, (c) => `\\${c}`)}) '`);
    const stream = `BT /F1 10 Tf 12 TL 50 800 Td ${escaped.join(' ')} ET`;
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${objects.length} 0 R >>`);
    kids.push(objects.length);
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
