/**
 * `make chaos`: fault injection on the real stack, each check printing what it did and verified.
 *   1. SIGKILL the Node worker several times (and the Python worker once, mid-training) during a
 *      lifecycle run: it completes, and its artifacts equal an undisturbed run's.
 *   2. Restart the (file-backed) dev server mid-run: the run completes.
 * The gateway's upstream failures, the bad-document batch and the training resume after both
 * workers are SIGKILLed have focused integration tests, which `make chaos` runs after this script
 * (`make test` runs them too). The kills go through core/stack's crashAndRestart*, like that test's,
 * so a renamed service fails `make test` rather than only this script.
 */
import type { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { followLifecycle, startLifecycle } from '../cli/commands/run';
import { lifecycleInput } from '../cli/lifecycle-input';
import { artifactStoreFromEnv, type TreeManifest } from '../core/artifacts';
import { REPO_ROOT } from '../core/config';
import { startDevServer } from '../core/devserver';
import { crashAndRestartNodeWorker, crashAndRestartPythonWorker, startLocalStack, type LocalStack } from '../core/stack';
import { connectClient } from '../core/temporal';
import type { DatasetManifest, LifecycleInput, LifecycleProgress, LifecycleResult, PerfIndex, RoutingTable, RunManifest } from '../schemas/generated/types';

const CHAOS_DIR = path.resolve(process.env.LLMLOOP_CHAOS_DIR ?? path.join(REPO_ROOT, '.data', 'chaos'));
const INPUT: LifecycleInput = lifecycleInput(
  ['pump-station-report.docx', 'q3-operations-review-zh.docx', 'cooling-upgrade.pptx', 'incident-log.xlsx'].map((f) => path.join(REPO_ROOT, 'samples', 'corpus', f)),
  path.join(REPO_ROOT, 'config', 'lifecycle.tiny.json'),
);
// Enough optimizer steps, with checkpoints, for a kill to land mid-training.
INPUT.training = { stages: ['sft'], hyperparameters: { sft: { ...INPUT.training!.hyperparameters!.sft, max_steps: 6, checkpoint_every: 2 } } };

const say = (message: string) => console.log(`[chaos] ${message}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh data dir per run, so no run reuses another's results. */
function freshDataDir(name: string): string {
  const dir = path.join(CHAOS_DIR, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  process.env.LLMLOOP_DATA_DIR = dir;
  return dir;
}

/** The run's stage, or undefined while no worker answers queries (which is what this script causes). */
async function stageOf(client: Client, workflowId: string): Promise<LifecycleProgress['stage'] | undefined> {
  return client.workflow
    .getHandle(workflowId)
    .query<LifecycleProgress>('progress')
    .then((p) => p.stage)
    .catch(() => undefined);
}

interface Comparable {
  documents: string[];
  datasetVersion: string;
  datasetTree: string;
  adapterWeights: string[];
  cells: string[];
  routes: string[];
  trainingSteps: number[];
  resumedFrom: number[];
}

async function comparable(result: LifecycleResult): Promise<Comparable> {
  const store = artifactStoreFromEnv();
  const dataset = await store.getJson<DatasetManifest>(result.artifacts.dataset!);
  const index = await store.getJson<PerfIndex>(result.artifacts.perf_index!);
  const table = await store.getJson<RoutingTable>(result.artifacts.routing_table!);
  const runs = await Promise.all((result.artifacts.adapters ?? []).flatMap((a) => (a.manifest ? [store.getJson<RunManifest>(a.manifest)] : [])));
  // The weights are what training computed; the adapter's config files are written from the job itself.
  // A model that trained nothing shows why (a machine short of memory refuses it, disturbed or not).
  const weights = await Promise.all(
    (result.artifacts.adapters ?? []).map(async (a) =>
      a.adapter ? ((await store.getJson<TreeManifest>(a.adapter)).files.find((f) => f.path.endsWith('.safetensors'))?.sha256 ?? 'no weights file') : `no adapter: ${a.error ?? 'no error recorded'}`,
    ),
  );
  const firstChoice = (cluster: RoutingTable['clusters'][number]) => cluster.candidates.find((c) => c.model_id === cluster.ranked[0]);
  return {
    documents: result.artifacts.documents!.map((d) => d.sha256),
    datasetVersion: dataset.version,
    datasetTree: dataset.tree.sha256,
    adapterWeights: weights,
    // Latencies differ run to run by nature; what was measured and what it scored must not.
    cells: index.cells.map((c) => `${c.cluster_id}/${c.model_id}: n=${c.n} quality=${c.quality.toFixed(6)} cost=${c.cost_per_request.toPrecision(6)}`).sort(),
    // Equal quality and cost are tie-broken by measured latency, so compare what the choice is worth, not its name.
    routes: table.clusters.map((c) => `${c.id}: quality=${firstChoice(c)?.quality.toFixed(6)} cost=${firstChoice(c)?.cost_per_request.toPrecision(6)}`),
    trainingSteps: runs.map((r) => r.steps),
    resumedFrom: runs.map((r) => r.resumed_from_step),
  };
}

function verifyEqual(what: string, a: unknown, b: unknown): void {
  const same = JSON.stringify(a) === JSON.stringify(b);
  say(`  ${same ? 'verified' : 'MISMATCH'}: ${what} ${same ? 'identical' : `differ:\n    undisturbed ${JSON.stringify(a)}\n    disturbed   ${JSON.stringify(b)}`}`);
  if (!same) process.exitCode = 1;
}

async function runUndisturbed(): Promise<Comparable> {
  freshDataDir('undisturbed');
  const stack = await startLocalStack();
  try {
    const client = await connectClient(stack.address);
    const result = await followLifecycle(client, await startLifecycle(client, INPUT, 'chaos-undisturbed'), () => undefined);
    say(`undisturbed run: ${result.status}`);
    return comparable(result);
  } finally {
    await stack.stop();
  }
}

async function runWithWorkerKills(): Promise<Comparable> {
  freshDataDir('worker-kills');
  const stack: LocalStack = await startLocalStack();
  try {
    const client = await connectClient(stack.address);
    const handle = await startLifecycle(client, INPUT, 'chaos-worker-kills');
    const done = followLifecycle(client, handle, () => undefined);
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => undefined);
    let nodeKills = 0;
    let pythonKilled = false;
    while (!finished) {
      await sleep(3_000 + Math.random() * 12_000);
      if (finished) break;
      const stage = await stageOf(client, handle.workflowId);
      if (!pythonKilled && stage === 'train') {
        await sleep(8_000);
        await crashAndRestartPythonWorker(stack);
        say('SIGKILLed the Python worker during training and restarted it');
        pythonKilled = true;
      } else if (nodeKills < 3) {
        await crashAndRestartNodeWorker(stack);
        nodeKills += 1;
        say(`SIGKILLed the Node worker (${nodeKills}/3) in stage ${stage ?? '?'} and restarted it`);
      }
    }
    const result = await done;
    say(`disturbed run: ${result.status} after ${nodeKills} Node worker kills${pythonKilled ? ' and a Python worker kill mid-training' : ''}`);
    return comparable(result);
  } finally {
    await stack.stop();
  }
}

async function runWithServerRestart(): Promise<void> {
  const dataDir = freshDataDir('server-restart');
  const dbFile = path.join(dataDir, 'temporal.db');
  const server = await startDevServer({ dbFile, logFile: path.join(dataDir, 'logs', 'temporal.log') });
  process.env.TEMPORAL_ADDRESS = server.address;
  const stack = await startLocalStack();
  let restarted: Awaited<ReturnType<typeof startDevServer>> | undefined;
  try {
    const client = await connectClient(server.address);
    const handle = await startLifecycle(client, { ...INPUT, dataset: { ...INPUT.dataset, seed: 11 } }, 'chaos-server-restart');
    for (let stage = await stageOf(client, handle.workflowId); stage !== 'dataset' && stage !== 'train'; stage = await stageOf(client, handle.workflowId)) await sleep(500);
    await server.stop();
    say('stopped the dev server mid-run (SQLite history kept); restarting it on the same port in 5 s');
    await sleep(5_000);
    restarted = await startDevServer({ dbFile, port: Number(server.address.split(':')[1]), logFile: path.join(dataDir, 'logs', 'temporal.log') });
    const again = await connectClient(restarted.address);
    const result = (await again.workflow.getHandle(handle.workflowId).result()) as LifecycleResult;
    const ok = result.status === 'published';
    say(`  ${ok ? 'verified' : 'FAILED'}: the run completed after the restart (${result.status})`);
    if (!ok) process.exitCode = 1;
  } finally {
    await stack.stop();
    await restarted?.stop();
    delete process.env.TEMPORAL_ADDRESS;
  }
}

async function main(): Promise<void> {
  say('check 1: worker kills during a lifecycle run, compared with an undisturbed run');
  const undisturbed = await runUndisturbed();
  const disturbed = await runWithWorkerKills();
  verifyEqual('parsed documents (sha256)', undisturbed.documents, disturbed.documents);
  verifyEqual('dataset version and export tree', [undisturbed.datasetVersion, undisturbed.datasetTree], [disturbed.datasetVersion, disturbed.datasetTree]);
  verifyEqual('trained adapter weights (safetensors bytes)', undisturbed.adapterWeights, disturbed.adapterWeights);
  verifyEqual('planned optimizer steps reached', undisturbed.trainingSteps, disturbed.trainingSteps);
  verifyEqual('perf index cells (n, quality, cost)', undisturbed.cells, disturbed.cells);
  verifyEqual("each cluster's first choice (quality, cost)", undisturbed.routes, disturbed.routes);
  say(`  training resumed from step(s) ${JSON.stringify(disturbed.resumedFrom)} in the disturbed run`);

  say('check 2: dev server restart mid-run');
  await runWithServerRestart();
  say(process.exitCode ? 'some checks FAILED' : 'all checks verified');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
