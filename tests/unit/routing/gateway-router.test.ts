/**
 * The gateway with a per-prompt router in its table, against a stub embedding server that answers
 * like `trainers.embedding serve` does with `llmloop_router` (vector + predicted quality per model)
 * and stub upstreams: the choice follows each prompt's predictions, and a router that cannot answer
 * leaves the cluster means in charge.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LocalArtifactStore } from '../../../core/artifacts';
import { TableStore } from '../../../core/routing/store';
import { buildRoutingTable } from '../../../core/routing/table';
import { resolveGatewayConfig } from '../../../router/config';
import { startGateway, type RunningGateway } from '../../../router/gateway';
import { hashApiKey } from '../../../router/keys';

const KEY = 'sk-router-test-0001';
const completion = JSON.stringify({
  id: 'c1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

function listen(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done()))) }),
    ),
  );
}

describe('gateway with a per-prompt router', () => {
  let dataDir: string;
  let gateway: RunningGateway;
  let routerSha: string;
  const routerRequests: (string | undefined)[] = [];
  const servers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-gateway-router-'));
    const upstream = await listen((req, res) => (req.resume(), res.writeHead(200, { 'content-type': 'application/json' }).end(completion)));
    // "easy" prompts: the small model is predicted as good as the big one; "broken": the router fails.
    const embeddings = await listen((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw) as { input: string; llmloop_router?: string };
        routerRequests.push(body.llmloop_router);
        if (body.llmloop_router && body.input.includes('broken')) return res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":{"message":"router cannot be loaded"}}');
        const embedding = Buffer.from(new Float32Array([1, 0]).buffer).toString('base64');
        const quality = body.input.includes('easy') ? [0.9, 0.89] : [0.9, 0.3];
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data: [{ index: 0, embedding, ...(body.llmloop_router ? { quality } : {}) }], ...(body.llmloop_router ? { router_models: ['big', 'small'] } : {}) }));
      });
    });
    servers.push(upstream, embeddings);

    const artifacts = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
    const routerRef = await artifacts.put(new Uint8Array([1, 2, 3]), 'application/vnd.llmloop.router+npz');
    routerSha = routerRef.sha256;
    const cell = (model_id: string, quality: number, cost_per_request: number) => ({ cluster_id: 0, model_id, n: 10, quality, metrics: {}, latency_ms_mean: 10, latency_ms_p95: 20, cost_per_request });
    // The cluster means alone say: small is far behind, always use big.
    const table = buildRoutingTable(
      {
        version: 'pi-router',
        created_at: '2026-12-06T00:00:00Z',
        embedding_model: 'stub',
        clusters: [{ id: 0, label: 'all', size: 1, centroid: [1, 0] }],
        models: ['big', 'small'].map((model_id) => ({ model_id, base_model: 'stub', cost_per_1k_tokens: 0 })),
        cells: [cell('big', 0.9, 0.01), cell('small', 0.5, 0.001)],
        eval_run: 'stub',
      },
      { tolerance: 0.05 },
      { createdAt: '2026-12-06T00:00:00Z', router: { artifact: routerRef, name: 'knn', embedding_model: 'stub' } },
    );
    await TableStore.inDataDir(dataDir, artifacts).publish({
      version: table.version,
      table: await artifacts.putJson(table),
      published_at: '2026-12-06T00:00:00Z',
      perf_index_version: 'pi-router',
      embedding_model: 'stub',
    });
    gateway = await startGateway(
      resolveGatewayConfig({
        port: 0,
        api_keys: [hashApiKey(KEY)],
        data_dir: dataDir,
        catalog_upstreams: false,
        embeddings: { base_url: embeddings.url },
        upstreams: { big: { base_url: upstream.url }, small: { base_url: upstream.url } },
      }),
      () => undefined,
    );
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const modelFor = async (prompt: string) => {
    const res = await fetch(`${gateway.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: prompt }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    return { model: res.headers.get('x-llmloop-model'), cluster: res.headers.get('x-llmloop-cluster') };
  };

  it('asks the embedding server for the table router and routes each prompt by its predictions, in the same cluster', async () => {
    expect(await modelFor('an easy question')).toEqual({ model: 'small', cluster: '0' });
    expect(await modelFor('a hard question')).toEqual({ model: 'big', cluster: '0' });
    expect(routerRequests.slice(-2)).toEqual([routerSha, routerSha]);
  });

  it('routes by the cluster means when the router cannot answer', async () => {
    expect(await modelFor('an easy but broken question')).toEqual({ model: 'big', cluster: '0' });
    // One try with the router, then the plain embedding.
    expect(routerRequests.slice(-2)).toEqual([routerSha, undefined]);
  });
});
