import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomically } from '../../core/atomic-file';
import { TypedError } from '../../core/errors';
import { parseDocument, toMarkdown } from '../../core/parse';
import { DEFAULT_LIMITS, limitExceeded, resolveLimits } from '../../core/parse/limits';
import { imagesToOcr, mergeOcr, ocrFailedWarnings, pagesToOcr } from '../../core/parse/ocr-merge';
import { ocrEmbeddedPictures, ocrPdfFile } from '../../core/parse/ocr-python';
import type { DocumentModel, OcrMode } from '../../schemas/generated/types';
import { EXIT, UsageError, type Command } from '../command';
import { DOCUMENT_EXTENSIONS, findDocuments } from '../documents';
import { numberFlag } from '../flags';

/** One file to parse and where its outputs go (without the .json / .md suffix). */
interface ParseJob {
  file: string;
  out: string;
}

/** The jobs of every argument; an argument that does not exist becomes a failure of its own instead of stopping the others. */
function planJobs(args: string[], include: string[], outDir: string): { jobs: ParseJob[]; missing: TypedError[] } {
  const jobs: ParseJob[] = [];
  const missing: TypedError[] = [];
  for (const arg of args) {
    try {
      // A file is written as DIR/<name.ext>; a folder's files keep their path under it, so same-named files in subfolders stay apart.
      jobs.push(...findDocuments(arg, include).map((doc) => ({ file: doc.path, out: path.join(outDir, doc.relative) })));
    } catch (err) {
      if (!(err instanceof TypedError)) throw err;
      missing.push(err);
    }
  }
  const seen = new Map<string, string>();
  for (const job of jobs) {
    const earlier = seen.get(job.out);
    if (earlier) throw new UsageError(`${earlier} and ${job.file} would both be written as ${job.out}.json: parse them into different --out folders`);
    seen.set(job.out, job.file);
  }
  return { jobs, missing };
}

function failureLine(file: string, err: unknown): string {
  const type = err instanceof TypedError ? err.type : (err as NodeJS.ErrnoException).code ? 'IOError' : 'InternalError';
  return JSON.stringify({ file, error: { type, message: err instanceof Error ? err.message : String(err) } });
}

const OCR_MODES: readonly OcrMode[] = ['auto', 'off', 'force'];

export const parseCommand: Command = {
  name: 'parse',
  summary: 'parse PDF/DOCX/PPTX/XLSX files into the document model (JSON) and Markdown',
  usage: `llmloop parse FILE_OR_DIR... --out DIR [--include GLOB ...] [--password PW] [--max-pages N] [--max-bytes N]
                     [--max-cells N] [--ocr auto|off|force] [--dpi N]
                     [--ocr-images-min-bytes N]

Writes DIR/<name.ext>.json (schemas/document.schema.json) and DIR/<name.ext>.md per file, e.g.
report.pdf -> DIR/report.pdf.json, so report.pdf and report.docx do not overwrite each other.
A folder is searched recursively and its files keep their path under it (DIR/sub/report.pdf.json).
  --include GLOB   which files of a folder to parse (repeatable; default: ${DOCUMENT_EXTENSIONS.map((e) => `*${e}`).join(' ')});
                   a glob without '/' matches file names at any depth, one with '/' the path under the folder
  --ocr MODE       auto (default): PDF pages without a text layer are read by OCR (python -m trainers.ocr:
                   RapidOCR and rapid-layout on the CPU); force: every PDF page, its text layer replaced; off: never
  --dpi N          render resolution for OCR of pages that are not one full-page picture (default 200)
  --ocr-images-min-bytes N
                   DOCX/PPTX/XLSX: also OCR embedded pictures of at least N bytes; their text goes on
                   their image blocks (default: pictures are not OCR'd)
  --max-cells N    non-empty cells a workbook may hold (default ${DEFAULT_LIMITS.max_cells.toLocaleString('en')}); past it the file
                   fails as LimitExceeded with the workbook's count
When OCR fails, the file is still written (its pages keep the needs_ocr warning, with ocr_failed
saying why), the failure is printed as below, and the exit status is 1.
A file that fails writes nothing and prints one JSON line to stderr:
  {"file": "...", "error": {"type": "...", "message": "..."}}
The last line on stdout sums up: files ok and failed, pages (slides, sheets), seconds.
Exit status: 0 when every file parsed, 1 when any failed, 2 for a usage error.`,
  async run(argv) {
    const started = performance.now();
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        include: { type: 'string', multiple: true },
        password: { type: 'string' },
        'max-pages': { type: 'string' },
        'max-bytes': { type: 'string' },
        'max-cells': { type: 'string' },
        ocr: { type: 'string' },
        dpi: { type: 'string' },
        'ocr-images-min-bytes': { type: 'string' },
      },
    });
    if (!values.out) throw new UsageError('--out DIR is required');
    if (positionals.length === 0) throw new UsageError('at least one FILE_OR_DIR is required');
    const limits = {
      ...(values['max-pages'] ? { max_pages: numberFlag('--max-pages', values['max-pages'], { integer: true, min: 1 })! } : {}),
      ...(values['max-bytes'] ? { max_bytes: numberFlag('--max-bytes', values['max-bytes'], { integer: true, min: 1 })! } : {}),
      ...(values['max-cells'] ? { max_cells: numberFlag('--max-cells', values['max-cells'], { integer: true, min: 1 })! } : {}),
    };
    const maxBytes = resolveLimits(limits).max_bytes;
    const ocrMode = (values.ocr ?? 'auto') as OcrMode;
    if (!OCR_MODES.includes(ocrMode)) throw new UsageError(`--ocr expects auto, off or force, got ${JSON.stringify(values.ocr)}`);
    const dpi = numberFlag('--dpi', values.dpi, { integer: true, min: 50 });
    if (dpi !== undefined && dpi > 600) throw new UsageError('--dpi is at most 600');
    const imagesMinBytes = numberFlag('--ocr-images-min-bytes', values['ocr-images-min-bytes'], { integer: true, min: 0 });
    const { jobs, missing } = planJobs(positionals, values.include ?? [], values.out);
    for (const err of missing) console.error(failureLine(String(err.details.path), err));
    if (jobs.length === 0 && missing.length === 0) throw new TypedError('NoDocuments', `no files to parse in ${positionals.join(' ')} (include: ${(values.include ?? DOCUMENT_EXTENSIONS.map((e) => `*${e}`)).join(' ')})`);
    let [ok, pages, ocrFailed] = [0, 0, 0];
    for (const job of jobs) {
      try {
        // Checked before reading, so a huge file is refused without loading it (default limit included).
        const { size } = await fs.stat(job.file);
        if (size > maxBytes) throw limitExceeded('max_bytes', maxBytes, `file has ${size} bytes`);
        let model = await parseDocument(await fs.readFile(job.file), { path: job.file, limits, ...(values.password !== undefined ? { password: values.password } : {}) });
        const ocrPages = pagesToOcr(model, ocrMode);
        const ocrImages = imagesToOcr(model, { mode: ocrMode, ...(imagesMinBytes !== undefined ? { images_min_bytes: imagesMinBytes } : {}) });
        if (ocrPages.length || ocrImages.length) {
          const ocrOptions = { ...(dpi !== undefined ? { dpi } : {}), ...(values.password !== undefined ? { password: values.password } : {}) };
          try {
            model = mergeOcr(model, await (ocrImages.length ? ocrEmbeddedPictures(job.file, ocrImages, ocrOptions) : ocrPdfFile(job.file, ocrPages, ocrOptions)));
          } catch (err) {
            // The text layer's parse still stands; the pages keep needs_ocr, and the failure is reported.
            model = { ...model, warnings: [...model.warnings, ...ocrFailedWarnings(ocrPages, err, ocrImages)] } satisfies DocumentModel;
            console.error(failureLine(job.file, err));
            ocrFailed += 1;
          }
        }
        // Both outputs are rendered before either is written, and each is written by rename: a failed
        // file leaves nothing behind (a half-written .json, or a .json without its .md).
        const [json, markdown] = [JSON.stringify(model, null, 1), toMarkdown(model)];
        await writeFileAtomically(`${job.out}.json`, json);
        await writeFileAtomically(`${job.out}.md`, markdown);
        ok += 1;
        pages += model.units.length;
      } catch (err) {
        console.error(failureLine(job.file, err));
      }
    }
    const failed = jobs.length - ok + missing.length;
    console.log(`parse: ${ok} ok, ${failed} failed, ${pages} pages (slides, sheets)${ocrFailed ? `, OCR failed for ${ocrFailed} files` : ''}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return failed || ocrFailed ? EXIT.failure : EXIT.ok;
  },
};
