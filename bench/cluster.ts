/**
 * Task clustering at scale against scikit-learn in the same run: k-means (ml-kmeans, k-means++,
 * restarts) on N unit vectors of D dimensions drawn from a seeded mixture of K blobs, and sklearn's
 * KMeans (same k, n_init = restarts, max_iter 100) on the very same float32 vectors, and the Python
 * worker's path (trainers/cluster.py, what evaluateFleet runs above PYTHON_KMEANS_ABOVE_TASKS tasks).
 * Target: time <= 2x sklearn's at inertia <= 1.01x sklearn's. Prints one JSON line with the ratios.
 *   node dist/bench/cluster.js [--n 100000] [--dim 384] [--k 16] [--restarts 3] [--seed 1]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { kmeans, vectorRows } from '../core/cluster';
import { pythonExecutable, REPO_ROOT } from '../core/config';

/** n unit vectors around k random centres, as one flat float32 buffer (what the embedding worker writes). */
function mixture(n: number, dim: number, k: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: k }, () => Float64Array.from({ length: dim }, gaussian));
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const centre = centres[i % k]!;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const x = centre[d]! / Math.sqrt(dim) + 0.6 * gaussian() / Math.sqrt(dim);
      data[i * dim + d] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) data[i * dim + d]! /= norm;
  }
  return data;
}

function main(): void {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '100000' }, dim: { type: 'string', default: '384' }, k: { type: 'string', default: '16' }, restarts: { type: 'string', default: '3' }, seed: { type: 'string', default: '1' } },
  });
  const [n, dim, k, restarts, seed] = [values.n, values.dim, values.k, values.restarts, values.seed].map(Number) as [number, number, number, number, number];
  const flat = mixture(n, dim, k, seed);
  const file = path.join(os.tmpdir(), `llmloop-bench-cluster-${process.pid}.f32`);
  fs.writeFileSync(file, new Uint8Array(flat.buffer));
  try {
    const sklearn = JSON.parse(
      execFileSync(pythonExecutable(), [path.join(REPO_ROOT, 'bench', 'cluster_sklearn.py'), file, ...[n, dim, k, restarts, seed].map(String)], { encoding: 'utf8' }).trim(),
    ) as { seconds: number; inertia: number; iterations: number; worker_seconds: number; worker_inertia: number };
    const rows = vectorRows(new Uint8Array(flat.buffer), n, dim);
    const started = process.hrtime.bigint();
    const ours = kmeans(rows, { k, seed, restarts });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const report = {
      date: new Date().toISOString(),
      host: `${os.cpus().length} cpus, load ${os.loadavg()[0]!.toFixed(1)}`,
      n,
      dim,
      k,
      restarts,
      sklearn_seconds: +sklearn.seconds.toFixed(2),
      mlkmeans_seconds: +seconds.toFixed(2),
      time_ratio: +(seconds / sklearn.seconds).toFixed(2),
      sklearn_inertia: +sklearn.inertia.toFixed(2),
      mlkmeans_inertia: +ours.inertia.toFixed(2),
      inertia_ratio: +(ours.inertia / sklearn.inertia).toFixed(4),
      target_met: seconds <= 2 * sklearn.seconds && ours.inertia <= 1.01 * sklearn.inertia,
      worker_seconds: +sklearn.worker_seconds.toFixed(2),
      worker_time_ratio: +(sklearn.worker_seconds / sklearn.seconds).toFixed(2),
      worker_inertia_ratio: +(sklearn.worker_inertia / sklearn.inertia).toFixed(4),
      worker_target_met: sklearn.worker_seconds <= 2 * sklearn.seconds && sklearn.worker_inertia <= 1.01 * sklearn.inertia,
    };
    console.log(JSON.stringify(report));
  } finally {
    fs.rmSync(file, { force: true });
  }
}

main();
