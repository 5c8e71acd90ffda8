/**
 * `llmloop efficacy`: the real lifecycle on a set of documents (a local stack: Temporal, the Node
 * and Python workers), then the report a user reads first. The lifecycle's own stage cache makes a
 * rerun reuse every finished stage; the replay's prompt embeddings are cached in the data dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { loadConfig, REPO_ROOT } from '../../core/config';
import { renderEfficacyHtml } from '../../core/efficacy/html';
import { embeddingCacheDir, measureEfficacy } from '../../core/efficacy/measure';
import { TypedError } from '../../core/errors';
import { validate } from '../../core/schemas';
import { startLocalStack } from '../../core/stack';
import { connectClient } from '../../core/temporal';
import type { DatasetManifest, EfficacyReport, LifecycleInput, LifecycleProgress, LifecycleResult, PerfIndex, RoutingTable } from '../../schemas/generated/types';
import { EXIT, UsageError, type Command } from '../command';
import { lifecycleInput } from '../lifecycle-input';
import { formatSeconds, ProgressPrinter } from '../progress';
import { followLifecycle, lifecycleWorkflowId, startLifecycle } from './run';

export const DEFAULT_EFFICACY_CONFIG = path.join(REPO_ROOT, 'config', 'efficacy.json');
export const DEFAULT_EFFICACY_MINUTES = 45;
/** evaluateFleet's default, used for the report's intervals when the config names none. */
const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
const DEFAULT_SEED = 42;

export interface EfficacyOptions {
  docs: string[];
  outDir: string;
  /** Wall-clock budget: past it the lifecycle is cancelled (a rerun reuses the stages it finished). */
  minutes: number;
  /** Seeds the dataset split, training and clustering; the config's seeds when absent. */
  seed?: number;
  configFile?: string;
  /** Progress lines (stderr for the CLI). */
  progress?: NodeJS.WriteStream;
}

export interface EfficacyRun {
  report: EfficacyReport;
  jsonPath: string;
  htmlPath: string;
  /** Test task ids and the routing table's choice for each (what the gateway would have picked). */
  testTaskIds: string[];
  choices: string[];
  perfIndex: PerfIndex;
  table: RoutingTable;
}

/** The efficacy config with --seed applied to every seeded stage: same seed, same stage-cache keys. */
export function efficacyInput(docs: string[], configFile: string, seed: number | undefined): LifecycleInput {
  const input = lifecycleInput(docs, configFile);
  if (seed === undefined) return input;
  const hyperparameters = Object.fromEntries(Object.entries(input.training?.hyperparameters ?? { sft: {} }).map(([stage, h]) => [stage, { ...h, seed }]));
  return validate('LifecycleInput', {
    ...input,
    dataset: { ...input.dataset, seed },
    training: { ...input.training, hyperparameters },
    evaluation: { ...input.evaluation, clustering: { ...input.evaluation?.clustering, seed } },
  });
}

function seedOf(input: LifecycleInput, seed: number | undefined): number {
  return seed ?? input.evaluation?.clustering?.seed ?? DEFAULT_SEED;
}

export async function runEfficacy(options: EfficacyOptions): Promise<EfficacyRun> {
  const started = Date.now();
  const out = options.progress ?? process.stderr;
  const say = (line: string) => out.write(`[efficacy] ${line}\n`);
  const input = efficacyInput(options.docs, options.configFile ?? DEFAULT_EFFICACY_CONFIG, options.seed);
  const config = loadConfig();
  say(`${input.sources.length} documents, models ${input.models.map((m) => m.model_id).join(', ')}, data dir ${config.dataDir}, budget ${options.minutes} min`);
  const stack = await startLocalStack();
  // Ctrl-C or a kill must not leave the dev server and workers running (a rerun reuses what finished).
  const onSignal = (signal: NodeJS.Signals) => void stack.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let deadline: NodeJS.Timeout | undefined;
  try {
    const client = await connectClient(stack.address);
    const handle = await startLifecycle(client, input, `efficacy-${lifecycleWorkflowId()}`);
    say(`lifecycle ${handle.workflowId} on Temporal ${stack.address}`);
    let timedOut = false;
    deadline = setTimeout(
      () => {
        timedOut = true;
        void handle.executeUpdate('cancel', { args: [{ reason: `llmloop efficacy: over its ${options.minutes}-minute budget` }] }).catch(() => undefined);
      },
      options.minutes * 60_000,
    );
    const printer = new ProgressPrinter(out);
    const result = (await followLifecycle(client, handle, (text) => printer.print(text), 2000)) as LifecycleResult;
    if (timedOut || result.status === 'cancelled') {
      throw new TypedError('DeadlineExceeded', `the lifecycle did not finish within ${options.minutes} minutes; rerun to continue from its finished stages`);
    }
    const { perf_index: perfIndexRef, routing_table: tableRef, dataset: datasetRef } = result.artifacts;
    if (!perfIndexRef || !tableRef || !datasetRef) throw new TypedError('InvalidRequest', `the lifecycle ended without a dataset, perf index and routing table: ${JSON.stringify(result)}`);
    const progress = await handle.query<LifecycleProgress>('progress');

    say(`replaying the test split through routing table ${result.artifacts.routing_table_version ?? ''} (${formatSeconds((Date.now() - started) / 1000)} so far)`);
    const store = artifactStoreFromEnv();
    const perfIndex = await store.getJson<PerfIndex>(perfIndexRef);
    const table = await store.getJson<RoutingTable>(tableRef);
    const measured = await measureEfficacy({
      store,
      dataset: await store.getJson<DatasetManifest>(datasetRef),
      perfIndex,
      table,
      embeddingCacheDir: embeddingCacheDir(config.dataDir),
      bootstrapResamples: input.evaluation?.bootstrap_resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES,
      seed: seedOf(input, options.seed),
    });
    const report = validate('EfficacyReport', {
      ...measured.figures,
      wall_seconds: (Date.now() - started) / 1000,
      run: {
        workflow_id: handle.workflowId,
        perf_index_version: perfIndex.version,
        routing_table_version: table.version,
        publication: result.publication ?? result.status,
        stages: progress.stages.map((s) => ({ stage: s.stage, status: s.status })),
        seed: seedOf(input, options.seed),
      },
    });
    fs.mkdirSync(options.outDir, { recursive: true });
    const jsonPath = path.join(options.outDir, 'efficacy.json');
    const htmlPath = path.join(options.outDir, 'efficacy.html');
    fs.writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(htmlPath, renderEfficacyHtml(report));
    say(`wrote ${jsonPath} and ${htmlPath} in ${formatSeconds(report.wall_seconds)}`);
    return { report, jsonPath, htmlPath, testTaskIds: measured.testTaskIds, choices: measured.choices, perfIndex, table };
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.stop();
  }
}

function parseInteger(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export const efficacyCommand: Command = {
  name: 'efficacy',
  summary: 'prove the loop on documents: lifecycle for both base models, tuned vs base on unseen documents, routed vs single models (efficacy.json + .html)',
  usage: `llmloop efficacy DOCS... --out DIR [--minutes N] [--seed S] [--config FILE]

Runs the real lifecycle on DOCS (files or folders) with a local stack (a Temporal dev server unless
TEMPORAL_ADDRESS is set, the Node worker and a Python worker): parse, a dataset split by document,
SFT of every base model in the config, evaluation of base and tuned models on the test split (documents
no training row came from), a published routing table. Then every test request is replayed offline
through that table exactly as the gateway routes it (embed, nearest cluster, selection), and
DIR/efficacy.json (schemas/efficacy.schema.json) and DIR/efficacy.html are written: per base model the
paired gain of tuning with a 95% bootstrap interval, and the routed table against always-smallest,
always-largest and the oracle. Progress (stage, ETA) goes to stderr.

--minutes N   budget (default ${DEFAULT_EFFICACY_MINUTES}): past it the lifecycle is cancelled and the command
              fails with DeadlineExceeded; a rerun reuses every stage that finished
--seed S      seeds the dataset split, training and clustering (default: the config's)
--config FILE a LifecycleInput without "sources" (default ${path.relative(REPO_ROOT, DEFAULT_EFFICACY_CONFIG)})

A rerun with the same documents, config and seed reuses the finished stages ($LLMLOOP_DATA_DIR stage cache).`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, minutes: { type: 'string' }, seed: { type: 'string' }, config: { type: 'string' } },
    });
    if (positionals.length === 0) throw new UsageError('at least one document or folder (DOCS) is required');
    if (!values.out) throw new UsageError('--out DIR is required');
    const seed = parseInteger('--seed', values.seed, 0);
    const run = await runEfficacy({
      docs: positionals,
      outDir: path.resolve(values.out),
      minutes: parseInteger('--minutes', values.minutes, 1) ?? DEFAULT_EFFICACY_MINUTES,
      ...(seed !== undefined ? { seed } : {}),
      ...(values.config ? { configFile: values.config } : {}),
    });
    console.log(JSON.stringify({ efficacy_json: run.jsonPath, efficacy_html: run.htmlPath, n_test: run.report.n_test, gains: run.report.gains, routing: run.report.routing }, null, 2));
    return EXIT.ok;
  },
};
