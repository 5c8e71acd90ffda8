/**
 * `make demo`: the whole loop on the bundled sample corpus with SmolLM2-135M on CPU —
 * dev server (with UI), workers, the llama.cpp model server (teacher + base-model upstream), the
 * embedding server, the lifecycle (parse → dataset → SFT → evaluate → publish), adapter servers,
 * the gateway, routed requests through it with the official OpenAI client, each reply scored
 * against its reference answer and the score posted as feedback, collectFeedback over those scores,
 * report.html — and then it stops everything it started. The run's Temporal history (a SQLite file),
 * request log and codec keys stay in $LLMLOOP_DATA_DIR/demo-runs/<run id>, so the report's commands
 * can inspect the run after the demo's server is gone.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startLifecycle, followLifecycle } from '../cli/commands/run';
import { lifecycleInput } from '../cli/lifecycle-input';
import { ProgressPrinter } from '../cli/progress';
import { artifactStoreFromEnv, LocalArtifactStore, type ArtifactRef, type ArtifactStore } from '../core/artifacts';
import { writeFileAtomically } from '../core/atomic-file';
import { loadConfig, REPO_ROOT, TASK_QUEUE_CPU } from '../core/config';
import { readReviewRows, sampleRows, writeReviewSheet } from '../core/dataset/review';
import { embeddingCacheDir, measureEfficacy } from '../core/efficacy/measure';
import { DEMO_PROMPTS, scoreReplies } from '../core/report/demo-requests';
import { renderLifecycleReport, type ParsedDocument, type RoutedRequest, type RunInspection } from '../core/report/lifecycle-report';
import { escapeHtml } from '../core/report/svg';
import { stopAll, type Service } from '../core/services';
import { startAdapterServerProcess, startEmbeddingServerProcess, startGatewayProcess, startLocalStack, startModelServerProcess, type LocalStack } from '../core/stack';
import { connectClient } from '../core/temporal';
import type { CollectFeedbackInput, CollectFeedbackResult, DatasetManifest, DatasetRejection, DocumentModel, FeedbackTask, GatewayConfig, LifecycleResult, PerfIndex, RoutingTable, RunManifest } from '../schemas/generated/types';

const BASE_MODEL = 'smollm2-135m';
/** Rows in the demo's dataset review sheet. */
const REVIEW_SAMPLE = 30;
/** collectFeedback's selection bar: a reply scored below it becomes a retraining task. */
const FEEDBACK_MIN_SCORE = 0.5;

function log(message: string): void {
  console.log(`[demo] ${message}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const reportPath = path.resolve(process.env.LLMLOOP_REPORT ?? path.join(REPO_ROOT, 'report.html'));
  log(`data dir ${config.dataDir}`);
  const runId = `demo-lifecycle-${Date.now()}`;
  const runDir = path.join(config.dataDir, 'demo-runs', runId);
  fs.mkdirSync(runDir, { recursive: true });
  // The gateway keeps prompts for the feedback loop only encrypted (store_prompts needs the codec
  // keys), and the workers that read them back need the same keys: the whole stack runs sealed.
  const codecKeysFile = process.env.LLMLOOP_CODEC_KEYS ? undefined : await newCodecKeys(path.join(runDir, 'codec-keys'));
  if (codecKeysFile) process.env.LLMLOOP_CODEC_KEYS = fs.readFileSync(codecKeysFile, 'utf8');
  const historyDb = path.join(runDir, 'temporal.db');
  const stack: LocalStack = await startLocalStack({ ui: true, dbFile: historyDb });
  const extra: Service[] = [];
  let stopping = false;
  const stopEverything = async () => {
    if (stopping) return;
    stopping = true;
    await stopAll(extra);
    await stack.stop();
    log('stopped everything it started');
  };
  process.once('SIGINT', () => void stopEverything().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopEverything().then(() => process.exit(143)));

  try {
    const ui = stack.uiUrl ? `${stack.uiUrl}/namespaces/${config.temporalNamespace}/workflows` : undefined;
    log(`Temporal at ${stack.address}${ui ? ` — UI: ${ui}` : ''}`);
    const threads = Math.max(1, Math.min(2, os.cpus().length));
    const modelServer = await startModelServerProcess({ modelId: BASE_MODEL, threads, parallel: 2, logDir: stack.logDir });
    extra.push(modelServer.service);
    log(`model server (llama.cpp, SmolLM2-135M) at ${modelServer.url}`);
    const embeddings = await startEmbeddingServerProcess({ env: stack.env, logDir: stack.logDir });
    extra.push(embeddings.service);
    log(`embedding server (all-MiniLM-L6-v2) at ${embeddings.url}`);

    const input = lifecycleInput([path.join(REPO_ROOT, 'samples', 'corpus')], path.join(REPO_ROOT, 'config', 'demo.json'));
    const teacher = (input.dataset as { teacher: Record<string, unknown> }).teacher;
    teacher.url = modelServer.url;
    const client = await connectClient(stack.address);
    const handle = await startLifecycle(client, input, runId);
    log(`lifecycle ${handle.workflowId} on ${input.sources.length} documents${ui ? ` — ${ui}/${handle.workflowId}` : ''}`);
    const printer = new ProgressPrinter();
    const result = await followLifecycle(client, handle, (text) => printer.print(text), 2000);
    log(`lifecycle ${result.status}${result.publication ? ` (${result.publication})` : ''}`);
    if (result.status !== 'published') throw new Error(`the lifecycle did not publish a routing table: ${JSON.stringify(result)}`);

    const store = artifactStoreFromEnv();
    const perfIndex = await store.getJson<PerfIndex>(result.artifacts.perf_index!);
    const table = await store.getJson<RoutingTable>(result.artifacts.routing_table!);
    const upstreams: GatewayConfig['upstreams'] = {};
    for (const model of perfIndex.models) {
      if (!model.adapter) {
        upstreams[model.model_id] = { base_url: modelServer.url, upstream_model: BASE_MODEL, cost_per_1k_tokens: model.cost_per_1k_tokens };
        continue;
      }
      const adapterDir = path.join(config.dataDir, 'adapters', model.adapter.sha256);
      await store.getTree(model.adapter, adapterDir);
      const server = await startAdapterServerProcess({ modelId: model.base_model, adapterDir, servedName: model.model_id, env: stack.env, logDir: stack.logDir });
      extra.push(server.service);
      upstreams[model.model_id] = { base_url: server.url, cost_per_1k_tokens: model.cost_per_1k_tokens };
      log(`adapter server for ${model.model_id} at ${server.url}`);
    }
    const apiKey = `demo-${Date.now().toString(36)}-key`;
    // This run's requests in a log of its own, so what collectFeedback reports is what this run posted.
    const requestLog = path.join(runDir, 'requests.jsonl');
    const gatewayConfig: GatewayConfig = {
      port: 0,
      api_keys: [apiKey],
      data_dir: config.dataDir,
      request_log: requestLog,
      store_prompts: true,
      embeddings: { base_url: embeddings.url },
      upstreams,
      ...(input.constraints ? { defaults: input.constraints } : {}),
    };
    const gatewayConfigFile = path.join(runDir, 'gateway.json');
    fs.writeFileSync(gatewayConfigFile, JSON.stringify(gatewayConfig, null, 2));
    const gateway = await startGatewayProcess(gatewayConfigFile, stack.env, stack.logDir);
    extra.push(gateway.service);
    log(`gateway at ${gateway.url}, routing table ${table.version}`);

    const openai = new OpenAI({ baseURL: gateway.url, apiKey, maxRetries: 0, timeout: 120_000 });
    const routed: (RoutedRequest & { requestId: string | null })[] = [];
    for (const { prompt } of DEMO_PROMPTS) {
      const t0 = performance.now();
      const { data, response } = await openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: prompt }], max_tokens: 64, temperature: 0 }).withResponse();
      const entry = {
        prompt,
        model: response.headers.get('x-llmloop-model') ?? data.model,
        cluster: response.headers.get('x-llmloop-cluster') ?? '?',
        latency_ms: performance.now() - t0,
        reply: data.choices[0]?.message.content ?? '',
        requestId: response.headers.get('x-request-id'),
      };
      routed.push(entry);
      log(`→ cluster ${entry.cluster}, ${entry.model}, ${Math.round(entry.latency_ms)} ms: ${prompt}`);
    }
    // A user's verdict on each answer, here the evaluation's metric against the prompt's reference
    // answer: what collectFeedback turns into retraining tasks when it is below the bar.
    const scores = await scoreReplies(DEMO_PROMPTS.map((task, i) => ({ task, output: routed[i]!.reply })));
    for (const [i, entry] of routed.entries()) {
      entry.score = scores[i]!;
      if (!entry.requestId) continue;
      const posted = await fetch(`${gateway.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ request_id: entry.requestId, score: entry.score.quality }) });
      if (posted.status !== 202) throw new Error(`the gateway refused the feedback for ${entry.requestId}: ${posted.status} ${await posted.text()}`);
      log(`score ${entry.score.quality.toFixed(2)} posted for: ${entry.prompt}`);
    }
    const feedbackWorkflowId = `${runId}-feedback`;
    const feedbackInput: CollectFeedbackInput = { request_log: requestLog, min_score: FEEDBACK_MIN_SCORE };
    const collected = await client.workflow.execute<(input: CollectFeedbackInput) => Promise<CollectFeedbackResult>>('collectFeedback', { taskQueue: TASK_QUEUE_CPU, workflowId: feedbackWorkflowId, args: [feedbackInput] });
    const tasks = collected.tasks_ref ? parseJsonl<FeedbackTask>((await store.get(collected.tasks_ref)).toString('utf8')) : [];
    for (const entry of routed) {
      const task = tasks.find((t) => t.request_id === entry.requestId);
      if (task) entry.fed = task.reason;
    }
    log(`collectFeedback: ${collected.low_score} of ${collected.requests_read} requests scored below ${FEEDBACK_MIN_SCORE}; ${collected.tasks} retraining tasks${collected.prompts_missing ? `, ${collected.prompts_missing} without a stored prompt` : ''}`);

    const runs = await Promise.all((result.artifacts.adapters ?? []).flatMap((a) => (a.manifest ? [store.getJson<RunManifest>(a.manifest)] : [])));
    const dataset = await store.getJson<DatasetManifest>(result.artifacts.dataset!);
    const review = await writeDatasetReview(dataset, store, path.join(path.dirname(reportPath), 'dataset-review.html'));
    log(`dataset review sheet: ${review.html} (Markdown: ${review.markdown})`);
    // The verdict report.html leads with: the same figures as `llmloop efficacy`, on this run's test split.
    const { figures } = await measureEfficacy({
      store,
      dataset,
      perfIndex,
      table,
      embeddingCacheDir: embeddingCacheDir(config.dataDir),
      bootstrapResamples: input.evaluation?.bootstrap_resamples ?? 1000,
      seed: dataset.config.seed ?? 0,
    });
    const where = (ref: ArtifactRef) => artifactLocation(store, ref);
    const inspection: RunInspection = {
      workflows: [
        { name: 'lifecycle', id: handle.workflowId },
        { name: 'collectFeedback', id: feedbackWorkflowId },
      ],
      historyDb,
      ...(codecKeysFile ? { codecKeysFile } : {}),
      files: [
        { name: 'report', path: reportPath },
        { name: 'dataset review sheet', path: review.html },
        { name: 'dataset manifest', path: where(result.artifacts.dataset!) },
        ...(result.artifacts.adapters ?? []).flatMap((a) => (a.adapter ? [{ name: `adapter ${a.model_id} (${a.recipe})`, path: where(a.adapter) }] : [])),
        { name: 'performance index', path: where(result.artifacts.perf_index!) },
        { name: 'routing table', path: where(result.artifacts.routing_table!) },
        ...(collected.tasks_ref ? [{ name: 'feedback tasks', path: where(collected.tasks_ref) }] : []),
        { name: 'gateway config', path: gatewayConfigFile },
        { name: 'request log', path: requestLog },
        { name: 'service logs', path: stack.logDir },
      ],
    };
    const html = renderLifecycleReport({
      runId: handle.workflowId,
      result: result as LifecycleResult,
      dataset,
      parsedDocuments: await parsedDocuments(store, result.artifacts.documents ?? []),
      rejections: await datasetRejections(store, dataset),
      trainingRuns: runs,
      perfIndex,
      routingTable: table,
      routedRequests: routed,
      feedback: { workflowId: feedbackWorkflowId, minScore: FEEDBACK_MIN_SCORE, result: collected, ...(collected.tasks_ref ? { tasksPath: where(collected.tasks_ref) } : {}) },
      inspection,
      wallSeconds: (Date.now() - started) / 1000,
      efficacy: { ...figures, wall_seconds: (Date.now() - started) / 1000 },
    });
    fs.writeFileSync(reportPath, withReviewSheetLink(html, reportPath, review.html));
    log(`report: ${reportPath}`);
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await stopEverything();
  }
}

/** Fresh payload codec keys for this run, kept (owner-readable only) so the report's commands can read its history later. */
async function newCodecKeys(file: string): Promise<string> {
  await writeFileAtomically(file, `demo:${randomBytes(32).toString('base64')}`);
  fs.chmodSync(file, 0o600);
  return file;
}

/** Where an artifact's bytes are: a file of a local store, else its sha256 in the configured store. */
function artifactLocation(store: ArtifactStore, ref: ArtifactRef): string {
  return store instanceof LocalArtifactStore ? store.blobPath(ref.sha256) : `sha256:${ref.sha256} in ${process.env.LLMLOOP_ARTIFACTS}`;
}

function parseJsonl<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

/** Each parsed document's artifact and source: what the report compares with the dataset's documents. */
async function parsedDocuments(store: ArtifactStore, refs: readonly ArtifactRef[]): Promise<ParsedDocument[]> {
  return Promise.all(
    refs.map(async (ref) => {
      const { source } = await store.getJson<DocumentModel>(ref);
      return { artifact: ref.sha256, sha256: source.sha256, path: source.path };
    }),
  );
}

/** The dataset's rejections export: why drafts (and so, maybe, whole documents) gave no samples. */
async function datasetRejections(store: ArtifactStore, dataset: DatasetManifest): Promise<DatasetRejection[]> {
  const exported = dataset.exports.find((e) => e.format === 'rejections');
  return exported ? parseJsonl<DatasetRejection>((await store.get(exported.artifact)).toString('utf8')) : [];
}

/** A review sheet of the demo's dataset (a seeded sample, as `llmloop dataset review` writes it), its rows read from the artifact store. */
async function writeDatasetReview(dataset: DatasetManifest, store: ArtifactStore, sheetPath: string): Promise<{ html: string; markdown: string }> {
  const rows = await readReviewRows(dataset, async (entry) => (await store.get(entry.artifact)).toString('utf8'));
  const seed = dataset.config.seed;
  return writeReviewSheet({ version: dataset.version, seed, population: rows.length, rows: sampleRows(rows, REVIEW_SAMPLE, seed) }, sheetPath);
}

/** The lifecycle report has no slot for companion files, so the sheet's link closes the page. */
function withReviewSheetLink(html: string, reportPath: string, sheetPath: string): string {
  const href = path.relative(path.dirname(reportPath), sheetPath);
  const link = `<p>Dataset review sheet (sampled rows to mark good/bad): <a href="${escapeHtml(href)}">${escapeHtml(sheetPath)}</a></p>\n`;
  return html.replace('</body>', `${link}</body>`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
