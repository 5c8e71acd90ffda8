/**
 * `make demo`: the whole loop on the bundled sample corpus with SmolLM2-135M on CPU —
 * dev server (with UI), workers, the llama.cpp model server (teacher + base-model upstream), the
 * embedding server, the lifecycle (parse → dataset → SFT → evaluate → publish), adapter servers,
 * the gateway, routed requests through it with the official OpenAI client, report.html — and then
 * it stops everything it started.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startLifecycle, followLifecycle } from '../cli/commands/run';
import { lifecycleInput } from '../cli/lifecycle-input';
import { ProgressPrinter } from '../cli/progress';
import { artifactStoreFromEnv, type ArtifactStore } from '../core/artifacts';
import { loadConfig, REPO_ROOT } from '../core/config';
import { readReviewRows, sampleRows, writeReviewSheet } from '../core/dataset/review';
import { embeddingCacheDir, measureEfficacy } from '../core/efficacy/measure';
import { renderLifecycleReport, type RoutedRequest } from '../core/report/lifecycle-report';
import { escapeHtml } from '../core/report/svg';
import { stopAll, type Service } from '../core/services';
import { startAdapterServerProcess, startEmbeddingServerProcess, startGatewayProcess, startLocalStack, startModelServerProcess, type LocalStack } from '../core/stack';
import { connectClient } from '../core/temporal';
import type { DatasetManifest, GatewayConfig, LifecycleResult, PerfIndex, RoutingTable, RunManifest } from '../schemas/generated/types';

const BASE_MODEL = 'smollm2-135m';
/** Rows in the demo's dataset review sheet. */
const REVIEW_SAMPLE = 30;
const PROMPTS = [
  'Summarise the maintenance findings for pump B in one sentence.',
  'What should be done before pump C carries load, and why?',
  '请用一句话总结第三季度的经营情况。',
  '铜价上涨会对毛利率产生什么影响？',
  'Classify this incident: the standby pump failed to start on demand.',
];

function log(message: string): void {
  console.log(`[demo] ${message}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const reportPath = path.resolve(process.env.LLMLOOP_REPORT ?? path.join(REPO_ROOT, 'report.html'));
  log(`data dir ${config.dataDir}`);
  const stack: LocalStack = await startLocalStack({ ui: true });
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
    const handle = await startLifecycle(client, input, `demo-lifecycle-${Date.now()}`);
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
    const gatewayConfig: GatewayConfig = { port: 0, api_keys: [apiKey], data_dir: config.dataDir, embeddings: { base_url: embeddings.url }, upstreams, ...(input.constraints ? { defaults: input.constraints } : {}) };
    const gatewayConfigFile = path.join(config.dataDir, 'gateway.demo.json');
    fs.writeFileSync(gatewayConfigFile, JSON.stringify(gatewayConfig, null, 2));
    const gateway = await startGatewayProcess(gatewayConfigFile, stack.env, stack.logDir);
    extra.push(gateway.service);
    log(`gateway at ${gateway.url}, routing table ${table.version}`);

    const openai = new OpenAI({ baseURL: gateway.url, apiKey, maxRetries: 0, timeout: 120_000 });
    const routed: RoutedRequest[] = [];
    for (const prompt of PROMPTS) {
      const t0 = performance.now();
      const { data, response } = await openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: prompt }], max_tokens: 32, temperature: 0 }).withResponse();
      const entry: RoutedRequest = {
        prompt,
        model: response.headers.get('x-llmloop-model') ?? data.model,
        cluster: response.headers.get('x-llmloop-cluster') ?? '?',
        latency_ms: performance.now() - t0,
        reply: data.choices[0]?.message.content ?? '',
      };
      routed.push(entry);
      log(`→ cluster ${entry.cluster}, ${entry.model}, ${Math.round(entry.latency_ms)} ms: ${prompt}`);
      const requestId = response.headers.get('x-request-id');
      if (requestId) {
        // A user's verdict on the answer: what collectFeedback turns into retraining tasks.
        await fetch(`${gateway.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ request_id: requestId, score: entry.reply.trim() ? 0.6 : 0 }) });
      }
    }

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
    const html = renderLifecycleReport({
      runId: handle.workflowId,
      ...(ui ? { uiUrl: ui } : {}),
      result: result as LifecycleResult,
      dataset,
      trainingRuns: runs,
      perfIndex,
      routingTable: table,
      routedRequests: routed,
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
