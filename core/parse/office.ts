/**
 * DOCX, PPTX and XLSX are read in bounded worker threads, as PDFs are (threads.ts): each parse has
 * a heap ceiling (max_heap_mb), a wall clock (max_ooxml_seconds) and each part read whole a size cap
 * (max_part_bytes); an AbortSignal terminates its thread. A hostile package fails alone as a
 * TypedError while the process (a Temporal worker running many activities) keeps its event loop.
 */
import path from 'node:path';
import { TypedError } from '../errors';
import { detectFormat } from './detect';
import { parseDocx } from './docx';
import { stackOverflowAsCorrupt, type ResolvedLimits } from './limits';
import type { ParsedContent } from './model';
import { OoxmlPackage } from './ooxml';
import { parsePptx } from './pptx';
import { BoundedThreadPool, deserializeTypedError, serializeTypedError, type SerializedTypedError } from './threads';
import { parseXlsx } from './xlsx';

/** What the main thread sends: the package bytes (copied) and the limits. */
export interface OfficeJob {
  bytes: Uint8Array;
  limits: ResolvedLimits;
}

export type OfficeMessage =
  | { kind: 'progress'; done: number; total: number }
  | { kind: 'content'; content: ParsedContent }
  | { kind: 'error'; typed?: SerializedTypedError; name?: string; message: string };

/** Heartbeat-sized progress: a message per part read would flood the port on a 20,000-part package. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * The parse itself, on the thread that calls it: the package's main part decides the format.
 * Progress is the number of zip entries inflated so far, of the package's total.
 */
export function parseOfficePackage(bytes: Uint8Array, limits: ResolvedLimits, onProgress?: (done: number, total: number) => void): ParsedContent {
  const detected = detectFormat(bytes, limits);
  if (detected.format === 'pdf') throw new TypedError('UnsupportedFormat', 'a PDF is not an Office package');
  const { zip } = detected;
  if (onProgress) zip.onEntryRead = (done) => onProgress(done, zip.entryCount);
  const pkg = new OoxmlPackage(zip, limits);
  let content: ParsedContent;
  try {
    content = detected.format === 'docx' ? parseDocx(pkg) : detected.format === 'pptx' ? parsePptx(pkg, limits.max_pages) : parseXlsx(pkg, limits);
  } catch (err) {
    throw stackOverflowAsCorrupt(err);
  }
  if (zip.suspiciousNames.length) {
    content.warnings.push({ code: 'unsafe_zip_entry', message: `ignored ${zip.suspiciousNames.length} zip entries whose names leave the package root` });
  }
  return content;
}

/**
 * The thread's side: one job at a time from the pool, answered with progress messages and then
 * the content or the failure. Started by the pool's bootstrap (THREAD_SOURCE) requiring this module.
 */
export function serveOfficeJobs(port: { on(event: 'message', listener: (job: OfficeJob) => void): unknown; postMessage(message: OfficeMessage): void }): void {
  port.on('message', ({ bytes, limits }) => {
    let lastProgress = 0;
    try {
      const content = parseOfficePackage(bytes, limits, (done, total) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        port.postMessage({ kind: 'progress', done, total });
      });
      port.postMessage({ kind: 'content', content });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ kind: 'error', ...(err instanceof TypedError ? { typed: serializeTypedError(err) } : {}), name: error.name, message: error.message });
    }
  });
}

/**
 * The thread's script: requires this module (compiled, or its TypeScript source through @swc/core
 * when running from source, as under jest) and serves jobs. The .ts hook is the one jest's
 * transform uses; it is never needed from the built dist/.
 */
const THREAD_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
if (w.swcPath) {
  const swc = require(w.swcPath);
  const fs = require('node:fs');
  require.extensions['.ts'] = (module, filename) => {
    const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), { filename, jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } });
    module._compile(code, filename);
  };
}
require(w.entry).serveOfficeJobs(parentPort);
`;

let pool: BoundedThreadPool | undefined;

function officePool(): BoundedThreadPool {
  const fromSource = path.extname(__filename) === '.ts';
  pool ??= new BoundedThreadPool({
    label: 'DOCX/PPTX/XLSX',
    source: THREAD_SOURCE,
    workerData: { entry: __filename, swcPath: fromSource ? require.resolve('@swc/core') : undefined },
    jobsPerThread: 50,
    maxIdle: 2,
    // A typed failure is the thread's last message for the job: the thread is idle and sound.
    reuseAfterReject: true,
  });
  return pool;
}

/** Parses an OOXML package in a bounded thread (see the top of this file). */
export function parseOfficeInThread(bytes: Uint8Array, limits: ResolvedLimits, options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<ParsedContent> {
  // A copy moves to the thread: the caller keeps its bytes (it hashes them, and may store them).
  const copy = new Uint8Array(bytes);
  return officePool().run<ParsedContent, OfficeMessage>(
    { bytes: copy, limits } satisfies OfficeJob,
    { heapMb: limits.max_heap_mb, timeoutMs: Math.min(limits.max_ooxml_seconds, limits.max_seconds) * 1000, ...(options.signal ? { signal: options.signal } : {}) },
    (message, job) => {
      if (message.kind === 'progress') options.onProgress?.(message.done, message.total);
      else if (message.kind === 'content') job.resolve(message.content);
      else job.reject(message.typed ? deserializeTypedError(message.typed) : new Error(`${message.name ?? 'Error'}: ${message.message}`));
    },
    [copy.buffer],
  );
}
