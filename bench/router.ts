/**
 * Router speed on this host; every gateway number is a ratio against a baseline measured in the
 * same run, so load from other processes hits both alike.
 *  - selection: p50/p99 of rankCandidates over a 32-cluster x 8-model table (target p99 < 1 ms).
 *  - embed + select: a short prompt through the gateway's embedding client and the real embedding
 *    server (all-MiniLM-L6-v2 on ONNX Runtime, `python -m trainers.embedding serve`) + nearest
 *    centroid + selection (target p99 < 20 ms).
 *  - embed + predict + select: the same call also asking the embedding server for a per-prompt
 *    router's predictions (synthetic 11-model routers fitted on 14 000 prompts:
 *    `python -m trainers.router_synthetic --router knn|blend`), then selection on them (same target).
 *  - gateway overhead: sequential requests to a local upstream directly vs through the gateway
 *    (concrete model id, and `auto` with request-time embedding), interleaved in rounds.
 *  - sustained requests/s with N concurrent clients, direct vs through the gateway.
 * The local upstream answers a fixed completion at once, so the gateway's own cost is what shows.
 *   node dist/bench/router.js [--requests N] [--concurrency N] [--seconds S]
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '../core/artifacts';
import { startEmbeddingServerProcess } from '../core/stack';
import { TableStore } from '../core/routing/store';
import { seededRandom } from '../core/routing/score-matrix';
import { rankCandidates } from '../core/routing/select';
import { execFileSync } from 'node:child_process';
import { pythonExecutable, REPO_ROOT } from '../core/config';
import { assignCluster, buildRoutingTable, withPredictedQuality } from '../core/routing/table';
import { resolveGatewayConfig } from '../router/config';
import { EmbeddingClient } from '../router/embedding-client';
import { startGateway } from '../router/gateway';
import type { PerfIndex } from '../schemas/generated/types';

const API_KEY = 'sk-bench-router-0001';
const CLUSTERS = 32;
const MODELS = 8;
const DIM = 384;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const summary = (ms: number[]) => ({ p50_ms: +percentile(ms, 50).toFixed(4), p99_ms: +percentile(ms, 99).toFixed(4) });

function syntheticIndex(): PerfIndex {
  const rand = seededRandom(7);
  const unit = () => {
    const v = Array.from({ length: DIM }, () => rand() - 0.5);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const models = Array.from({ length: MODELS }, (_, m) => `model-${m}`);
  return {
    version: 'pi-bench',
    created_at: new Date().toISOString(),
    embedding_model: 'sentence-transformers/all-MiniLM-L6-v2',
    clusters: Array.from({ length: CLUSTERS }, (_, id) => ({ id, label: `c${id}`, size: 100, centroid: unit() })),
    models: models.map((model_id) => ({ model_id, base_model: model_id, cost_per_1k_tokens: 0.001 })),
    cells: Array.from({ length: CLUSTERS }, (_, cluster_id) =>
      models.map((model_id, m) => ({
        cluster_id,
        model_id,
        n: 50,
        quality: 0.4 + 0.5 * rand(),
        metrics: {},
        latency_ms_mean: 100,
        latency_ms_p95: 100 + 400 * rand(),
        cost_per_request: 0.0001 * (m + 1),
      })),
    ).flat(),
    eval_run: 'bench',
  };
}

/** An OpenAI-compatible upstream that answers every chat completion at once. */
async function startInstantUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const body = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 0,
    model: 'model-0',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

async function chat(baseUrl: string, model: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Summarise the quarterly report in two sentences.' }], max_tokens: 8 }),
  });
  await response.text();
  if (!response.ok) throw new Error(`${baseUrl} answered ${response.status}`);
  return performance.now() - started;
}

async function throughput(baseUrl: string, model: string, concurrency: number, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await chat(baseUrl, model);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '16' }, seconds: { type: 'string', default: '5' } } });
  const requests = Number(values.requests);
  const index = syntheticIndex();
  const table = buildRoutingTable(index, { tolerance: 0.05, latency_ms: 400 }, { createdAt: new Date().toISOString() });

  // Selection alone: a new cluster and new constraints every call, as per-request overrides would.
  const rand = seededRandom(11);
  const selection: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const cluster = table.clusters[i % CLUSTERS]!;
    const started = performance.now();
    rankCandidates(cluster.candidates, { tolerance: rand() * 0.2, latency_ms: 200 + rand() * 300, cost_limit: rand() * 0.001 });
    selection.push(performance.now() - started);
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-bench-router-'));
  const artifacts = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
  const routers: Record<string, string> = {};
  for (const family of ['knn', 'blend']) {
    const out = path.join(dataDir, `synthetic-${family}`);
    execFileSync(pythonExecutable(), ['-m', 'trainers.router_synthetic', '--style', 'routerbench', '--n', '14000', '--router', family, '--out', out], { cwd: REPO_ROOT, stdio: 'ignore' });
    routers[family] = (await artifacts.put(fs.readFileSync(path.join(out, 'router.npz')), 'application/vnd.llmloop.router+npz')).sha256;
  }
  const embeddings = await startEmbeddingServerProcess({ env: { LLMLOOP_DATA_DIR: dataDir } });
  const upstream = await startInstantUpstream();
  try {
    const embedSelect: number[] = [];
    const prompts = ['What is the capital of France?', 'Translate good morning to German.', 'Summarise this memo briefly.', 'Is 91 a prime number?'];
    const client = new EmbeddingClient({ baseUrl: embeddings.url, model: 'default', timeoutMs: 5000 });
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const vector = await client.embed(prompts[i % prompts.length]!);
      rankCandidates(assignCluster(table, vector).candidates, table.defaults);
      if (i >= 5) embedSelect.push(performance.now() - started); // the first few warm the model up
    }
    const embedPredictSelect: Record<string, number[]> = {};
    for (const [family, sha256] of Object.entries(routers)) {
      embedPredictSelect[family] = [];
      for (let i = 0; i < requests; i++) {
        const started = performance.now();
        const { vector, predicted } = await client.embedAndPredict(prompts[i % prompts.length]!, sha256);
        rankCandidates(withPredictedQuality(assignCluster(table, vector).candidates, predicted!), table.defaults);
        if (i >= 5) embedPredictSelect[family]!.push(performance.now() - started); // the first load the router
      }
    }

    const ref = await artifacts.putJson(table);
    await TableStore.inDataDir(dataDir, artifacts).publish({
      version: table.version,
      table: ref,
      published_at: new Date().toISOString(),
      perf_index_version: index.version,
      embedding_model: index.embedding_model,
    });
    const upstreams = Object.fromEntries(index.models.map((m) => [m.model_id, { base_url: upstream.url }]));
    const gateway = await startGateway(
      resolveGatewayConfig({ port: 0, api_keys: [API_KEY], data_dir: dataDir, catalog_upstreams: false, embeddings: { base_url: embeddings.url }, upstreams }),
      () => undefined,
    );
    try {
      const latency = { direct: [] as number[], gateway: [] as number[], auto: [] as number[] };
      for (let i = 0; i < 20; i++) await chat(gateway.url, 'auto'); // warm-up
      for (let i = 0; i < requests; i++) {
        latency.direct.push(await chat(upstream.url, 'model-0'));
        latency.gateway.push(await chat(gateway.url, 'model-0'));
        latency.auto.push(await chat(gateway.url, 'auto'));
      }
      const concurrency = Number(values.concurrency);
      const seconds = Number(values.seconds);
      const directRps = await throughput(upstream.url, 'model-0', concurrency, seconds);
      const gatewayRps = await throughput(gateway.url, 'model-0', concurrency, seconds);
      const autoRps = await throughput(gateway.url, 'auto', concurrency, seconds);
      const p50 = (ms: number[]) => percentile(ms, 50);
      console.log(
        JSON.stringify(
          {
            date: new Date().toISOString(),
            host: { cpus: os.cpus().length, node: process.versions.node },
            selection: { ...summary(selection), target_p99_ms: 1 },
            embed_and_select: { ...summary(embedSelect), target_p99_ms: 20 },
            embed_predict_and_select: Object.fromEntries(Object.entries(embedPredictSelect).map(([family, ms]) => [family, { ...summary(ms), target_p99_ms: 20 }])),
            gateway_latency: {
              direct: summary(latency.direct),
              gateway_concrete_model: summary(latency.gateway),
              gateway_auto: summary(latency.auto),
              overhead_p50_ms: { concrete_model: +(p50(latency.gateway) - p50(latency.direct)).toFixed(3), auto: +(p50(latency.auto) - p50(latency.direct)).toFixed(3) },
              ratio_p50_vs_direct: { concrete_model: +(p50(latency.gateway) / p50(latency.direct)).toFixed(2), auto: +(p50(latency.auto) / p50(latency.direct)).toFixed(2) },
            },
            sustained_rps: {
              concurrency,
              direct: +directRps.toFixed(1),
              gateway_concrete_model: +gatewayRps.toFixed(1),
              gateway_auto: +autoRps.toFixed(1),
              ratio_vs_direct: { concrete_model: +(gatewayRps / directRps).toFixed(2), auto: +(autoRps / directRps).toFixed(2) },
            },
          },
          null,
          2,
        ),
      );
    } finally {
      await gateway.close();
    }
  } finally {
    await Promise.all([embeddings.service.stop(), upstream.close()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
