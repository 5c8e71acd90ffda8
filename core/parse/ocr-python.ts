/**
 * OCR outside Temporal (`bin/llmloop parse`): runs `python -m trainers.ocr` on a file, the same
 * code the `ocr_pages` activity runs on the Python workers, and reads its OcrResult.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { OcrOptions, OcrResult } from '../../schemas/generated/types';
import { pythonExecutable, REPO_ROOT } from '../config';
import { TypedError } from '../errors';
import { validate } from '../schemas';

const run = promisify(execFile);

export interface OcrFileOptions extends Omit<OcrOptions, 'mode' | 'task_queue' | 'images_min_bytes'> {
  password?: string;
}

/** OCRs `pages` (1-based) of a PDF. A failure of the whole run is a TypedError: the Python side's type, else `OcrFailed`. */
export function ocrPdfFile(file: string, pages: readonly number[], options: OcrFileOptions = {}): Promise<OcrResult> {
  return runOcr(file, ['--pages', pages.join(',')], options);
}

/** OCRs the pictures `parts` (media part names) embedded in a DOCX/PPTX/XLSX; failures as ocrPdfFile's. */
export function ocrEmbeddedPictures(file: string, parts: readonly string[], options: OcrFileOptions = {}): Promise<OcrResult> {
  return runOcr(file, parts.flatMap((part) => ['--image', part]), options);
}

async function runOcr(file: string, what: string[], options: OcrFileOptions): Promise<OcrResult> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'llmloop-ocr-'));
  const output = path.join(work, 'ocr.json');
  const args = ['-m', 'trainers.ocr', '--input', path.resolve(file), '--output', output, ...what];
  if (options.dpi !== undefined) args.push('--dpi', String(options.dpi));
  if (options.low_confidence !== undefined) args.push('--low-confidence', String(options.low_confidence));
  if (options.max_page_pixels !== undefined) args.push('--max-page-pixels', String(options.max_page_pixels));
  if (options.password !== undefined) args.push('--password', options.password);
  try {
    await run(pythonExecutable(), args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
      throw pythonFailure(err);
    });
    return validate('OcrResult', JSON.parse(await fs.readFile(output, 'utf8')));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** trainers.ocr prints {"error": {type, message}} as its last stderr line; anything else (no Python, a crash) is OcrFailed. */
function pythonFailure(err: NodeJS.ErrnoException & { stderr?: string }): TypedError {
  const last = (err.stderr ?? '').trim().split('\n').pop() ?? '';
  try {
    const { error } = JSON.parse(last) as { error: { type: string; message: string } };
    return new TypedError(error.type, error.message);
  } catch {
    return new TypedError('OcrFailed', `python -m trainers.ocr failed: ${last || err.message}`);
  }
}
