/**
 * Measured scale-out: ingest and build a dataset (templates, no teacher) for N generated documents
 * (bench/scale/corpus.ts), three ways, each process pinned to one core with taskset, each with a data
 * dir of its own (no cache carried between them):
 *  - direct: the same activity functions called in-process (MockActivityEnvironment), in the order and
 *    with the concurrency the workflows use;
 *  - temporal x1: ingestDocuments + buildDataset on a dev server, one Node worker process;
 *  - temporal x2: the same with two worker processes, on two different cores.
 * (a) Temporal overhead = throughput x1 / direct (goal >= 0.8); (b) scaling = throughput x2 / x1, and
 * per-worker throughput. The dev server and this process are not pinned. All three must produce the
 * same dataset version.
 *   node dist/bench/scale/run.js [--docs 500] [--seed 1] [--out out/bench-scale]
 */
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { finalizeDatasetBuild, generateDatasetChunk, loadChunkBatch, parseDocumentActivity, planDataset, storeChunkResults } from '../../activities';
import type { ArtifactRef } from '../../core/artifacts';
import { REPO_ROOT, TASK_QUEUE_CPU } from '../../core/config';
import { startDevServer } from '../../core/devserver';
import { startService, stopAll, type Service } from '../../core/services';
import { connectClient } from '../../core/temporal';
import type { buildDataset, ingestDocuments } from '../../workflows';
import { corpusDir } from '../../scripts/score-corpus';
import { generateCorpus, loadSources } from './corpus';

/**
 * Parses in flight: ingestDocuments' `concurrency` caps them across all workers (default 4), so with
 * two workers each would get two and wait on every round trip; 8 keeps both busy. In-process parsing
 * is synchronous CPU, where lanes change nothing. buildDataset's batch is its default.
 */
const PARSE_LANES = 8;
const CHUNK_BATCH_SIZE = 500;

interface RunResult {
  mode: string;
  workers: number;
  documents: number;
  parsed: number;
  chunks: number;
  samples: number;
  dataset_version: string;
  ingest_s: number;
  dataset_s: number;
  total_s: number;
  docs_per_s: number;
  /** Temporal runs: event counts of the real histories (docs/lifecycle.md, History growth). */
  histories?: { ingest: HistorySizes; dataset: HistorySizes };
}

interface HistorySizes {
  parent: number;
  children: number;
  largest_child: number;
  total: number;
}

/** Events in a workflow's history and in each of its children's. */
async function historySizes(client: Client, workflowId: string): Promise<HistorySizes> {
  const events = async (id: string) => (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const parent = await events(workflowId);
  const childIds = parent.flatMap((e) => (e.childWorkflowExecutionStartedEventAttributes ? [e.childWorkflowExecutionStartedEventAttributes.workflowExecution!.workflowId!] : []));
  const sizes = await Promise.all(childIds.map(async (id) => (await events(id)).length));
  return { parent: parent.length, children: childIds.length, largest_child: Math.max(0, ...sizes), total: parent.length + sizes.reduce((a, b) => a + b, 0) };
}

const seconds = (from: number) => (performance.now() - from) / 1000;

/** The activity functions in-process, as the workflows would call them. */
async function runDirect(files: string[]): Promise<Omit<RunResult, 'mode' | 'workers'>> {
  const env = new MockActivityEnvironment();
  const call = <P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> => env.run(fn, ...args) as Promise<R>;
  const started = performance.now();
  const documents: ArtifactRef[] = new Array(files.length);
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const at = next++;
      const parsed = await call(parseDocumentActivity, { source: { path: files[at]! } }).catch(() => undefined);
      if (parsed) documents[at] = parsed.document;
    }
  };
  await Promise.all(Array.from({ length: PARSE_LANES }, lane));
  const ok = documents.filter(Boolean);
  const ingest_s = seconds(started);

  const plan = await call(planDataset, { documents: ok, config: {}, batch_size: CHUNK_BATCH_SIZE });
  const lists: ArtifactRef[] = [];
  for (const batch of plan.chunk_batches!) {
    const tasks = await call(loadChunkBatch, batch);
    const results = await Promise.all(tasks.map((task) => call(generateDatasetChunk, task)));
    lists.push(await call(storeChunkResults, { results: results.map((r) => r.result) }));
  }
  const finalized = await call(finalizeDatasetBuild, { plan: plan.plan, chunk_results: [], chunk_result_lists: lists, rejected_drafts: [] });
  const total_s = seconds(started);
  return { documents: files.length, parsed: ok.length, chunks: plan.chunks, samples: finalized.counts.accepted, dataset_version: finalized.version, ingest_s, dataset_s: total_s - ingest_s, total_s, docs_per_s: files.length / total_s };
}

/** ingestDocuments then buildDataset on a dev server, with `workers` Node worker processes, worker i on core i. */
async function runTemporal(files: string[], workers: number, dataDir: string): Promise<Omit<RunResult, 'mode' | 'workers'>> {
  const server = await startDevServer({ logFile: path.join(dataDir, 'temporal.log') });
  const services: Service[] = [];
  try {
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, LLMLOOP_DATA_DIR: dataDir };
    for (let core = 0; core < workers; core++) {
      services.push(
        await startService({
          name: `node-worker-${core}`,
          command: 'taskset',
          args: ['-c', String(core % os.availableParallelism()), process.execPath, path.join(REPO_ROOT, 'dist', 'workers', 'node-worker.js')],
          env,
          readyWhen: /\[node-worker\] serving/,
          readyTimeoutMs: 180_000,
          logFile: path.join(dataDir, `node-worker-${core}.log`),
        }),
      );
    }
    const client = await connectClient(server.address);
    const id = `bench-scale-${Date.now()}`;
    const started = performance.now();
    const manifest = await client.workflow.execute<typeof ingestDocuments>('ingestDocuments', {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `${id}/ingest`,
      args: [{ sources: files.map((file) => ({ path: file })), ocr: { mode: 'off' }, concurrency: PARSE_LANES }],
    });
    const ingest_s = seconds(started);
    const documents = manifest.entries.flatMap((e) => (e.ok && e.document ? [e.document] : []));
    if (!documents.length) throw new Error('no document parsed');
    const result = await client.workflow.execute<typeof buildDataset>('buildDataset', { taskQueue: TASK_QUEUE_CPU, workflowId: `${id}/dataset`, args: [{ documents: documents as [ArtifactRef, ...ArtifactRef[]], chunk_batch_size: CHUNK_BATCH_SIZE }] });
    const total_s = seconds(started);
    const histories = { ingest: await historySizes(client, `${id}/ingest`), dataset: await historySizes(client, `${id}/dataset`) };
    return { documents: files.length, parsed: documents.length, chunks: result.chunks, samples: result.counts.accepted, dataset_version: result.version, ingest_s, dataset_s: total_s - ingest_s, total_s, docs_per_s: files.length / total_s, histories };
  } finally {
    await stopAll(services);
    await server.stop();
  }
}

/** Runs one mode in a child process (direct: pinned to core 0), so every mode starts from a cold, separate process. */
function child(mode: string, docsDir: string, dataDir: string): Promise<RunResult> {
  const script = path.join(REPO_ROOT, 'dist', 'bench', 'scale', 'run.js');
  const args = ['--mode', mode, '--docs-dir', docsDir];
  const [command, argv] = mode === 'direct' ? ['taskset', ['-c', '0', process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
  fs.mkdirSync(dataDir, { recursive: true });
  return new Promise((resolve, reject) => {
    const proc = spawn(command as string, argv as string[], { env: { ...process.env, LLMLOOP_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as RunResult) : reject(new Error(`${mode} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      docs: { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'out', 'bench-scale') },
      mode: { type: 'string' },
      'docs-dir': { type: 'string' },
    },
  });
  if (values.mode) {
    const docsDir = values['docs-dir']!;
    const files = fs.readdirSync(docsDir).sort().map((f) => path.join(docsDir, f));
    const workers = values.mode === 'direct' ? 0 : Number(values.mode.replace('temporal-', ''));
    const result = workers ? await runTemporal(files, workers, process.env.LLMLOOP_DATA_DIR!) : await runDirect(files);
    console.log(JSON.stringify({ mode: values.mode, workers, ...result }));
    return;
  }
  const out = path.resolve(values.out!);
  fs.rmSync(out, { recursive: true, force: true });
  const docsDir = path.join(out, 'docs');
  const files = generateCorpus(await loadSources(corpusDir()), docsDir, Number(values.docs), Number(values.seed));
  const counts = Object.fromEntries(['pdf', 'docx', 'pptx', 'xlsx'].map((f) => [f, files.filter((x) => x.endsWith(f)).length]));
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  console.error(`[bench-scale] ${files.length} documents (${JSON.stringify(counts)}, ${(bytes / 1e6).toFixed(1)} MB) in ${docsDir}`);

  const results: RunResult[] = [];
  for (const mode of ['direct', 'temporal-1', 'temporal-2']) {
    const result = await child(mode, docsDir, path.join(out, mode));
    console.error(`[bench-scale] ${mode}: ${result.total_s.toFixed(1)} s (ingest ${result.ingest_s.toFixed(1)} s, dataset ${result.dataset_s.toFixed(1)} s), ${result.docs_per_s.toFixed(2)} docs/s, ${result.parsed} parsed, ${result.chunks} chunks, ${result.samples} samples`);
    results.push(result);
  }
  const [direct, one, two] = results as [RunResult, RunResult, RunResult];
  const summary = {
    date: new Date().toISOString(),
    host: { cpus: os.availableParallelism(), loadavg: os.loadavg() },
    documents: files.length,
    formats: counts,
    megabytes: bytes / 1e6,
    results,
    temporal_over_direct: one.docs_per_s / direct.docs_per_s,
    two_workers_over_one: two.docs_per_s / one.docs_per_s,
    per_worker_docs_per_s: { one: one.docs_per_s, two: two.docs_per_s / 2 },
    same_dataset: new Set(results.map((r) => r.dataset_version)).size === 1,
  };
  fs.writeFileSync(path.join(out, 'result.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `(a) Temporal x1 / direct: ${(summary.temporal_over_direct * 100).toFixed(0)}% (goal >= 80%)\n` +
      `(b) 2 workers / 1 worker: ${summary.two_workers_over_one.toFixed(2)}x (per worker ${summary.per_worker_docs_per_s.two.toFixed(2)} vs ${summary.per_worker_docs_per_s.one.toFixed(2)} docs/s)\n` +
      `same dataset version in all three: ${summary.same_dataset}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n` +
      `-> ${path.join(out, 'result.json')}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
