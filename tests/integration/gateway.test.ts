import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { LocalArtifactStore, type ArtifactStore } from '../../core/artifacts';
import { codecKeysFromEnv } from '../../core/codec';
import { TableStore } from '../../core/routing/store';
import { buildRoutingTable } from '../../core/routing/table';
import { resolveGatewayConfig } from '../../router/config';
import { EmbeddingClient } from '../../router/embedding-client';
import { startGateway, type RunningGateway } from '../../router/gateway';
import { PromptStore } from '../../router/prompt-store';
import type { RequestLogEntry } from '../../router/request-log';
import type { PerfIndex, RoutingConstraints } from '../../schemas/generated/types';
import { startEmbeddingServer, type RunningEmbeddingServer } from '../helpers/embedding-server';
import { startModelServer, type RunningModelServer } from '../helpers/model-server';

jest.setTimeout(300_000);

const API_KEY = 'sk-test-gateway-0001';
const CODEC_KEYS = `k1:${Buffer.alloc(32, 3).toString('base64')}`;
const MATH = 'Compute 17 times 23 and show the arithmetic.';
const GREETING = 'Say hello to my grandmother in a friendly way.';

/** A local upstream that fails every request (500) or never answers: the failure paths only. */
async function startBadUpstream(kind: 'fail' | 'hang'): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    req.resume();
    if (kind === 'fail') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"boom"}}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('routing gateway with the official openai client, a real model server and real embeddings', () => {
  let dataDir: string;
  let embeddings: RunningEmbeddingServer;
  let model: RunningModelServer;
  let failing: Awaited<ReturnType<typeof startBadUpstream>>;
  let hanging: Awaited<ReturnType<typeof startBadUpstream>>;
  let gateway: RunningGateway;
  let client: OpenAI;
  let tables: TableStore;
  let artifacts: ArtifactStore;
  let index: PerfIndex;
  const gatewayLog: string[] = [];
  let savedCodecKeys: string | undefined;

  async function embed(text: string): Promise<number[]> {
    return Array.from(await new EmbeddingClient({ baseUrl: embeddings.url, model: 'default', timeoutMs: 30_000 }).embed(text));
  }

  async function publish(defaults: RoutingConstraints) {
    const table = buildRoutingTable(index, defaults, { createdAt: new Date().toISOString() });
    const ref = await artifacts.putJson(table);
    await tables.publish({ version: table.version, table: ref, published_at: new Date().toISOString(), perf_index_version: index.version, embedding_model: index.embedding_model });
    return table.version;
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-gateway-'));
    [embeddings, model, failing, hanging] = await Promise.all([startEmbeddingServer(), startModelServer(), startBadUpstream('fail'), startBadUpstream('hang')]);
    const [mathCentroid, greetingCentroid] = await Promise.all([embed(MATH), embed(GREETING)]);
    // Cluster 0 (arithmetic): the two cheapest choices are broken, the real model is third.
    // Cluster 1 (chit-chat): the real model under two ids; the dearer one is better by 0.3.
    const cell = (cluster_id: number, model_id: string, quality: number, cost_per_request: number) => ({
      cluster_id,
      model_id,
      n: 20,
      quality,
      metrics: {},
      latency_ms_mean: 50,
      latency_ms_p95: 100,
      cost_per_request,
    });
    index = {
      version: 'pi-gateway-test',
      created_at: new Date().toISOString(),
      embedding_model: 'sentence-transformers/all-MiniLM-L6-v2',
      clusters: [
        { id: 0, label: 'arithmetic', size: 10, centroid: mathCentroid },
        { id: 1, label: 'greetings', size: 20, centroid: greetingCentroid },
      ],
      models: ['broken', 'hung', 'smollm2-135m', 'smollm2-premium'].map((model_id) => ({ model_id, base_model: 'smollm2-135m', cost_per_1k_tokens: 0 })),
      cells: [cell(0, 'broken', 0.9, 0.0001), cell(0, 'hung', 0.9, 0.0002), cell(0, 'smollm2-135m', 0.9, 0.001), cell(1, 'smollm2-135m', 0.6, 0.001), cell(1, 'smollm2-premium', 0.9, 0.01)],
      eval_run: 'gateway-test',
    };
    artifacts = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
    tables = TableStore.inDataDir(dataDir, artifacts);
    await publish({ tolerance: 0.5 });

    // Stored prompts are encrypted with the codec keys the gateway reads at start.
    savedCodecKeys = process.env.LLMLOOP_CODEC_KEYS;
    process.env.LLMLOOP_CODEC_KEYS = CODEC_KEYS;
    gateway = await startGateway(
      resolveGatewayConfig({
        port: 0,
        api_keys: [API_KEY],
        data_dir: dataDir,
        store_prompts: true,
        table_poll_ms: 100,
        catalog_upstreams: false,
        embeddings: { base_url: embeddings.url },
        upstreams: {
          'smollm2-135m': { base_url: model.url, cost_per_1k_tokens: 0.002 },
          'smollm2-premium': { base_url: model.url, upstream_model: 'smollm2-135m' },
          broken: { base_url: failing.url },
          hung: { base_url: hanging.url },
        },
        // Long enough for the one-sequence model server to work through the queued requests of the reload test.
        upstream_timeout_ms: 6000,
        retries: { attempts: 2, backoff_ms: 50, max_backoff_ms: 200 },
        cooldown: { failures_per_minute: 2, duration_ms: 60_000 },
      }),
      (line) => gatewayLog.push(line),
    );
    client = new OpenAI({ baseURL: gateway.url, apiKey: API_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    if (savedCodecKeys === undefined) delete process.env.LLMLOOP_CODEC_KEYS;
    else process.env.LLMLOOP_CODEC_KEYS = savedCodecKeys;
    await gateway?.close();
    await Promise.all([embeddings?.stop(), model?.stop(), failing?.close(), hanging?.close()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const ask = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content }], max_tokens: 8, temperature: 0, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers })
      .withResponse();

  function logEntries(): RequestLogEntry[] {
    return fs
      .readFileSync(path.join(dataDir, 'routing', 'requests.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RequestLogEntry);
  }

  async function loggedRequest(requestId: string): Promise<RequestLogEntry> {
    await new Promise((r) => setTimeout(r, 100)); // the log line is appended once the response has ended
    return logEntries().find((e) => e.type === 'request' && e.request_id === requestId)!;
  }

  it('lists auto and every configured model', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(['auto', 'smollm2-135m', 'smollm2-premium', 'broken', 'hung']);
  });

  it('routes auto to the cheapest good-enough model of the prompt cluster and says so in headers', async () => {
    const { data, response } = await ask(GREETING);
    expect(data.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(response.headers.get('x-llmloop-cluster')).toBe('1');
    expect(response.headers.get('x-llmloop-model')).toBe('smollm2-135m');
    expect(response.headers.get('x-llmloop-route-reason')).toBe('cheapest_within_tolerance');
  });

  it('streams through the gateway, priced from the tokens the upstream reports', async () => {
    const request = { model: 'auto', messages: [{ role: 'user' as const, content: GREETING }], max_tokens: 8, temperature: 0, stream: true as const };
    const plain = await client.chat.completions.create(request).withResponse();
    let text = '';
    let chunks = 0;
    for await (const chunk of plain.data) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? '';
      // The gateway asks the upstream for usage, but a client that did not ask never sees that event.
      expect(chunk.usage ?? null).toBeNull();
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text.length).toBeGreaterThan(0);

    const counted = await client.chat.completions
      .create({ ...request, stream_options: { include_usage: true } })
      .withResponse();
    let totalTokens = 0;
    for await (const chunk of counted.data) totalTokens = chunk.usage?.total_tokens ?? totalTokens;
    expect(totalTokens).toBeGreaterThan(0);
    const pricePerToken = 0.002 / 1000;
    expect((await loggedRequest(counted.response.headers.get('x-request-id')!)).cost).toBeCloseTo(totalTokens * pricePerToken, 10);
    // The same greedy answer costs the same whether or not the client asked to see the usage.
    expect((await loggedRequest(plain.response.headers.get('x-request-id')!)).cost).toBeCloseTo(totalTokens * pricePerToken, 10);
  });

  it('applies per-request constraint overrides from the body or a header', async () => {
    const strict = await ask(GREETING, { llmloop: { tolerance: 0 } });
    expect(strict.response.headers.get('x-llmloop-model')).toBe('smollm2-premium');
    const capped = await ask(GREETING, { llmloop: { tolerance: 0 } }, { 'x-llmloop-cost-limit': '0.005' });
    expect(capped.response.headers.get('x-llmloop-model')).toBe('smollm2-135m');
    expect(capped.response.headers.get('x-llmloop-route-reason')).toBe('fallback_best_under_cost_cap');
  });

  it('passes a concrete model id straight through, without a cluster', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'smollm2-135m', messages: [{ role: 'user', content: MATH }], max_tokens: 4 }).withResponse();
    expect(data.choices).toHaveLength(1);
    expect(response.headers.get('x-llmloop-cluster')).toBe('none');
    expect(response.headers.get('x-llmloop-model')).toBe('smollm2-135m');
  });

  it('retries a failing upstream, falls back past a hanging one, then cools the failing one down', async () => {
    const { data, response } = await ask(MATH);
    expect(data.choices[0]!.message.content).toBeDefined();
    expect(response.headers.get('x-llmloop-cluster')).toBe('0');
    expect(response.headers.get('x-llmloop-model')).toBe('smollm2-135m');
    const first = await loggedRequest(response.headers.get('x-request-id')!);
    expect(first.attempts).toEqual([
      { model: 'broken', outcome: 'http_500' },
      { model: 'broken', outcome: 'http_500' },
      { model: 'hung', outcome: 'timeout' },
      { model: 'smollm2-135m', outcome: 'ok' },
    ]);
    // Two failures within a minute put 'broken' in cooldown: the next request tries it last, i.e. never.
    const hitsBefore = failing.hits();
    const second = await ask(MATH);
    expect(second.response.headers.get('x-llmloop-model')).toBe('smollm2-135m');
    expect(failing.hits()).toBe(hitsBefore);
    const metrics = await (await fetch(gateway.url.replace(/\/v1$/, '/metrics'), { headers: { authorization: `Bearer ${API_KEY}` } })).text();
    expect(metrics).toMatch(/llmloop_gateway_cooldowns_total\{model="broken"\} 1/);
    expect(metrics).toMatch(/llmloop_gateway_upstream_errors_total\{model="hung",kind="timeout"\} [1-9]/);
    expect(metrics).toMatch(/llmloop_gateway_requests_total\{model="smollm2-135m",cluster="0",status="200"\} 2/);
  });

  it('refuses bad requests with a status and a reason, never a stack trace', async () => {
    await expect(new OpenAI({ baseURL: gateway.url, apiKey: 'sk-wrong-key-000', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404 });
    await expect(ask(GREETING, {}, { 'x-llmloop-latency-ms': 'fast' })).rejects.toMatchObject({ status: 400 });
    const raw = await fetch(`${gateway.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{"model": "auto", "messages": [',
    });
    expect(raw.status).toBe(400);
    const error = (await raw.json()) as { error: { message: string; code: string } };
    expect(error.error.code).toBe('invalid_json');
    expect(error.error.message).toMatch(/not valid JSON/);
    expect(JSON.stringify(error)).not.toMatch(/\n\s+at /);
    const metrics = await (await fetch(gateway.url.replace(/\/v1$/, '/metrics'), { headers: { authorization: `Bearer ${API_KEY}` } })).text();
    expect(metrics).toMatch(/llmloop_gateway_requests_total\{model="none",cluster="none",status="400"\} 2/);
  });

  it('logs every request and accepts user feedback for it', async () => {
    const { response } = await ask(GREETING);
    const requestId = response.headers.get('x-request-id')!;
    const feedback = await fetch(`${gateway.url}/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ request_id: requestId, score: 0.25, comment: 'too short' }),
    });
    expect(feedback.status).toBe(202);
    const bad = await fetch(`${gateway.url}/feedback`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body: JSON.stringify({ request_id: requestId, score: 7 }) });
    expect(bad.status).toBe(400);
    const request = await loggedRequest(requestId);
    expect(request).toMatchObject({ model: 'smollm2-135m', cluster: 1, status: 200, requested_model: 'auto', stream: false });
    // The prompt itself is kept, encrypted, under the logged hash, for the feedback loop.
    expect(await PromptStore.inDataDir(dataDir, codecKeysFromEnv(), 0).get(request.prompt_sha256)).toEqual([{ role: 'user', content: GREETING }]);
    expect(request.cluster_similarity).toBeGreaterThan(0.9);
    expect(request.cost).toBeGreaterThan(0);
    expect(logEntries()).toContainEqual(expect.objectContaining({ type: 'feedback', request_id: requestId, score: 0.25, comment: 'too short' }));
  });

  it('picks up a newly published table without a restart and without failing requests in flight', async () => {
    const before = (await ask(GREETING)).response.headers.get('x-llmloop-table-version');
    const inFlight = Array.from({ length: 4 }, (_, i) => new Promise((r) => setTimeout(r, i * 100)).then(() => ask(GREETING)));
    const next = await publish({ tolerance: 0 });
    expect(next).not.toBe(before);
    const answered = await Promise.all(inFlight);
    expect(answered.every((a) => a.response.status === 200)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const after = await ask(GREETING);
    expect(after.response.headers.get('x-llmloop-table-version')).toBe(next);
    // The new table's defaults have no tolerance: the better, dearer model now wins cluster 1.
    expect(after.response.headers.get('x-llmloop-model')).toBe('smollm2-premium');
    expect(gatewayLog).toContain(`[gateway] routing table ${next} in service (perf index pi-gateway-test)`);
  });
});
