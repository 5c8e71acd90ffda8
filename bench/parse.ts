/**
 * Parse speed on the shared corpus. Every structured-parse number is set against baselines measured
 * in the same run, interleaved file by file, so load from other processes hits all alike:
 *  - pdf.js plain text (unpdf extractText), the library the PDF parser is built on (PDF only);
 *  - officeparser 8 (parseOffice, its AST), for every format, in a worker thread of its own: it
 *    bundles another pdf.js version, and two in one thread refuse each other ("API version does
 *    not match the Worker version"). Process CPU is counted, as for the structured parse's thread.
 * Reports per format: units (pages/slides/sheets) per second and MB/s of input, wall clock and per
 * CPU-second (process CPU, so the pdf.js worker thread counts), and the ratio structured/baseline.
 *   node dist/bench/parse.js [--rounds N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { parseDocument } from '../core/parse';
import { corpusDir } from '../scripts/score-corpus';

type Method = 'structured' | 'unpdf-text' | 'officeparser';

interface Sample {
  wallMs: number;
  cpuMs: number;
}

async function timed(run: () => Promise<unknown>): Promise<Sample | undefined> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    await run();
  } catch {
    return undefined;
  }
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** parseOffice in its own thread; each call resolves when the thread has parsed the bytes (or rejects). */
function officeparserThread(): { parse(bytes: Buffer): Promise<void>; close(): Promise<number> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const ready = import('officeparser');
     parentPort.on('message', async (bytes) => {
       try { await (await ready).parseOffice(Buffer.from(bytes)); parentPort.postMessage({ ok: true }); }
       catch (err) { parentPort.postMessage({ ok: false, error: String(err && err.message || err) }); }
     });`,
    { eval: true },
  );
  return {
    parse: (bytes) =>
      new Promise((resolve, reject) => {
        worker.once('message', (reply: { ok: boolean; error?: string }) => (reply.ok ? resolve() : reject(new Error(reply.error))));
        worker.postMessage(bytes);
      }),
    close: () => worker.terminate(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
  const rounds = Number(values.rounds);
  const { extractText, getDocumentProxy } = await import('unpdf');
  const officeparser = officeparserThread();
  const methods: Record<Method, (bytes: Buffer) => Promise<unknown>> = {
    structured: (bytes) => parseDocument(bytes),
    'unpdf-text': (bytes) => getDocumentProxy(new Uint8Array(bytes)).then((doc) => extractText(doc, { mergePages: true })),
    officeparser: (bytes) => officeparser.parse(bytes),
  };
  const applies = (method: Method, format: string) => method !== 'unpdf-text' || format === 'pdf';

  const inputs = path.join(corpusDir(), 'inputs');
  const files = fs.readdirSync(inputs).flatMap((format) => fs.readdirSync(path.join(inputs, format)).map((f) => ({ format, file: path.join(inputs, format, f) })));
  const rows: { format: string; file: string; data: Buffer; bytes: number; units: number; samples: Partial<Record<Method, Sample[]>> }[] = [];
  for (const { format, file } of files) {
    const bytes = fs.readFileSync(file);
    const model = await parseDocument(bytes).catch(() => undefined);
    if (!model) continue; // the encrypted workbook: nothing to time
    rows.push({ format, file: path.basename(file), data: bytes, bytes: bytes.byteLength, units: model.units.length, samples: {} });
  }
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      for (const method of Object.keys(methods) as Method[]) {
        if (!applies(method, row.format)) continue;
        const sample = await timed(() => methods[method](row.data));
        if (sample) (row.samples[method] ??= []).push(sample);
      }
    }
  }
  await officeparser.close();

  const date = new Date().toISOString().slice(0, 10);
  console.log(`# bench/parse (${date}, ${rounds} rounds, median per file; ${os.availableParallelism()} CPUs, Node ${process.versions.node})\n`);
  console.log('| format | files | units | MB | method | units/s (wall) | units per CPU-s | MB/s (wall) | structured time ÷ this time |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const groups = [...new Set(rows.map((r) => r.format))].flatMap((format) => {
    const group = rows.filter((r) => r.format === format);
    const large = group.filter((r) => r.units >= 100);
    return [{ label: format, group }, ...large.map((r) => ({ label: `${format}: ${r.file}`, group: [r] }))];
  });
  const sum = (list: typeof rows, value: (r: (typeof rows)[number]) => number) => list.reduce((n, r) => n + value(r), 0);
  for (const { label, group } of groups) {
    for (const method of ['structured', 'unpdf-text', 'officeparser'] as Method[]) {
      // A baseline that fails on some files is compared over the files it reads, structured parse included.
      const measured = group.filter((r) => r.samples[method] && r.samples.structured);
      if (measured.length === 0) continue;
      const medianOf = (m: Method, key: keyof Sample) => sum(measured, (r) => median(r.samples[m]!.map((s) => s[key])));
      const units = sum(measured, (r) => r.units);
      const mb = sum(measured, (r) => r.bytes) / 2 ** 20;
      const [wall, cpu] = [medianOf(method, 'wallMs'), medianOf(method, 'cpuMs')];
      const scope = measured.length < group.length ? ` (the ${measured.length} of ${group.length} files ${method} reads)` : '';
      console.log(`| ${label}${scope} | ${measured.length} | ${units} | ${mb.toFixed(2)} | ${method} | ${(units / (wall / 1000)).toFixed(1)} | ${(units / (cpu / 1000)).toFixed(1)} | ${(mb / (wall / 1000)).toFixed(2)} | ${(medianOf('structured', 'wallMs') / wall).toFixed(2)}x |`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
