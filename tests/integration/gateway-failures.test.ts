/**
 * The gateway's failure paths (issue 16): every upstream failing (502), an upstream that closes its
 * connection in the middle of an SSE stream, no routing table (503), and the embedding server being
 * down (auto requests routed by the largest cluster, docs/routing.md). A scripted upstream on
 * localhost plays the failures; the client is the official openai package.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { LocalArtifactStore } from '../../core/artifacts';
import { TableStore } from '../../core/routing/store';
import { buildRoutingTable } from '../../core/routing/table';
import { resolveGatewayConfig } from '../../router/config';
import { startGateway, type RunningGateway } from '../../router/gateway';
import type { RequestLogEntry } from '../../router/request-log';
import type { PerfIndex } from '../../schemas/generated/types';

jest.setTimeout(60_000);

const KEY = 'sk-gateway-failures-0001';
/** Nothing listens on the discard port: connection refused, as for a server that is down. */
const DEAD_URL = 'http://127.0.0.1:9/v1';
const sse = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;

/**
 * Upstreams and an embedding server in one process; the first path segment picks the behaviour:
 * `ok` answers (streamed when asked), `fail` answers 500, `cut` sends two SSE events then destroys
 * the socket, `embed` serves /v1/embeddings with a fixed vector, `embed-fail` answers 500.
 */
async function startScripted() {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const behaviour = req.url!.split('/')[1]!;
      hits.set(behaviour, (hits.get(behaviour) ?? 0) + 1);
      const stream = (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { stream?: boolean }).stream === true;
      if (behaviour === 'fail' || behaviour === 'embed-fail') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
      if (behaviour === 'embed') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ embedding: [1, 0] }] }));
      if (behaviour === 'cut') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse('half '));
        res.write(sse('an answer'));
        return void setTimeout(() => res.destroy(), 50);
      }
      if (stream) return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`${sse('whole answer')}data: [DONE]\n\n`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', model: behaviour, choices: [{ index: 0, message: { role: 'assistant', content: `answer from ${behaviour}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (behaviour: string) => `http://127.0.0.1:${port}/${behaviour}/v1`,
    hits: (behaviour: string) => hits.get(behaviour) ?? 0,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * Cluster 0 ("small", centroid [1, 0], size 2): only the failing upstreams. Cluster 1 ("large",
 * centroid [0, 1], size 10): the working one first, then the cutting one.
 */
function perfIndex(): PerfIndex {
  const cell = (cluster_id: number, model_id: string, quality: number, cost_per_request: number) => ({ cluster_id, model_id, n: 8, quality, metrics: {}, latency_ms_mean: 5, latency_ms_p95: 9, cost_per_request });
  const models = ['fail', 'fail-too', 'ok', 'cut'];
  return {
    version: 'pi-gateway-failures',
    created_at: '2026-12-06T00:00:00Z',
    embedding_model: 'scripted',
    clusters: [
      { id: 0, label: 'small', size: 2, centroid: [1, 0] },
      { id: 1, label: 'large', size: 10, centroid: [0, 1] },
    ],
    models: models.map((model_id) => ({ model_id, base_model: 'smollm2-135m', cost_per_1k_tokens: 0 })),
    cells: [cell(0, 'fail', 0.9, 1), cell(0, 'fail-too', 0.9, 2), cell(1, 'ok', 0.9, 1), cell(1, 'cut', 0.9, 2)],
    eval_run: 'gateway-failures',
  };
}

describe('gateway failure paths', () => {
  let scripted: Awaited<ReturnType<typeof startScripted>>;
  let dataDir: string;
  const running: RunningGateway[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    scripted = await startScripted();
  });
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-gateway-failures-'));
    logLines.length = 0;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.close()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(() => scripted.close());

  async function publishTable(): Promise<void> {
    const index = perfIndex();
    const table = buildRoutingTable(index, { tolerance: 0 }, { createdAt: '2026-12-06T00:00:00Z' });
    const artifacts = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
    await TableStore.inDataDir(dataDir, artifacts).publish({ version: table.version, table: await artifacts.putJson(table), published_at: '2026-12-06T00:00:00Z', perf_index_version: index.version, embedding_model: index.embedding_model });
  }

  async function gateway(embeddingsUrl: string): Promise<{ g: RunningGateway; client: OpenAI }> {
    const config = resolveGatewayConfig({
      port: 0,
      api_keys: [KEY],
      data_dir: dataDir,
      catalog_upstreams: false,
      table_poll_ms: 50,
      embeddings: { base_url: embeddingsUrl, timeout_ms: 2000 },
      upstreams: Object.fromEntries(['ok', 'fail', 'cut'].map((b) => [b, { base_url: scripted.url(b) }]).concat([['fail-too', { base_url: DEAD_URL }]])),
      retries: { attempts: 2, backoff_ms: 10, max_backoff_ms: 50 },
    });
    const g = await startGateway(config, (line) => logLines.push(line));
    running.push(g);
    return { g, client: new OpenAI({ baseURL: g.url, apiKey: KEY, maxRetries: 0 }) };
  }

  const ask = (client: OpenAI, model = 'auto') => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 }).withResponse();

  async function logged(): Promise<RequestLogEntry[]> {
    await new Promise((r) => setTimeout(r, 100)); // a request's line is appended once its response has ended
    return fs.readFileSync(path.join(dataDir, 'routing', 'requests.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RequestLogEntry);
  }

  const metrics = async (g: RunningGateway) => (await fetch(g.url.replace(/\/v1$/, '/metrics'), { headers: { authorization: `Bearer ${KEY}` } })).text();

  it('answers 502 upstream_unavailable, naming every attempt, when every upstream of the cluster fails', async () => {
    await publishTable();
    const { g, client } = await gateway(scripted.url('embed')); // [1, 0]: cluster 0, only failing upstreams
    const failed = await ask(client).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(failed).toMatchObject({ status: 502, code: 'upstream_unavailable' });
    const error = failed as InstanceType<typeof OpenAI.APIError>;
    expect(error.message).toMatch(/every upstream failed: fail http_500, fail http_500, fail-too connection, fail-too connection/);
    expect(error.headers?.get('x-llmloop-cluster')).toBe('0');
    const [entry] = (await logged()).filter((e) => e.type === 'request');
    expect(entry).toMatchObject({ status: 502, model: null, cluster: 0, error: expect.stringMatching(/every upstream failed/) });
    expect(entry!.attempts.map((a) => a.outcome)).toEqual(['http_500', 'http_500', 'connection', 'connection']);
    expect(await metrics(g)).toMatch(/llmloop_gateway_requests_total\{model="none",cluster="0",status="502"\} 1/);
    // The gateway is still serving: a concrete model id passes straight through.
    expect((await ask(client, 'ok')).data.choices[0]!.message.content).toBe('answer from ok');
  });

  it('ends a stream its upstream cuts mid-way with an error event the client reads, logs it, and keeps serving', async () => {
    await publishTable();
    const { g, client } = await gateway(scripted.url('embed'));
    const stream = await client.chat.completions.create({ model: 'cut', messages: [{ role: 'user', content: 'hello' }], stream: true });
    const received: string[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
    })();
    // The OpenAI client turns the gateway's final `data: {"error": ...}` event into an APIError.
    await expect(consumed).rejects.toThrow(/stream interrupted/);
    expect(received.join('')).toBe('half an answer');
    const entry = (await logged()).find((e) => e.type === 'request' && e.model === 'cut')!;
    expect(entry).toMatchObject({ stream: true, status: 502, error: expect.stringMatching(/^stream interrupted/) });
    expect(logLines.some((l) => /\[gateway\] stream from cut interrupted/.test(l))).toBe(true);
    expect(await metrics(g)).toMatch(/llmloop_gateway_requests_total\{model="cut",cluster="none",status="502"\} 1/);
    // Still serving, streams included.
    const next = await client.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'hello' }], stream: true });
    let text = '';
    for await (const chunk of next) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('whole answer');
  });

  it('answers auto with 503 no_routing_table while no table is published, and concrete ids all the same', async () => {
    const { client } = await gateway(scripted.url('embed'));
    await expect(ask(client)).rejects.toMatchObject({ status: 503, code: 'no_routing_table' });
    expect((await ask(client, 'ok')).response.headers.get('x-llmloop-model')).toBe('ok');
    // Once a table is published the same request is routed, without a restart.
    await publishTable();
    await new Promise((r) => setTimeout(r, 300));
    await expect(ask(client)).rejects.toMatchObject({ status: 502 }); // [1, 0] is cluster 0: only failing upstreams
  });

  it.each([
    ['down (connection refused)', DEAD_URL],
    ['failing (500)', 'embed-fail'],
  ])('routes auto by the largest cluster when the embedding server is %s', async (_, embeddings) => {
    await publishTable();
    const { g, client } = await gateway(embeddings.startsWith('http') ? embeddings : scripted.url(embeddings));
    const { data, response } = await ask(client);
    expect(data.choices[0]!.message.content).toBe('answer from ok');
    expect(response.headers.get('x-llmloop-cluster')).toBe('1'); // the largest cluster, not the nearest
    expect(response.headers.get('x-llmloop-model')).toBe('ok');
    const [entry] = (await logged()).filter((e) => e.type === 'request');
    expect(entry).toMatchObject({ status: 200, cluster: 1, cluster_similarity: null });
    expect(logLines.some((l) => l.startsWith('[gateway] embedding failed, routing by the largest cluster'))).toBe(true);
    expect(await metrics(g)).toMatch(/llmloop_gateway_upstream_errors_total\{model="embedding",kind="[A-Za-z]+"\} 1/);
  });
});
