/**
 * The gateway under failure and abuse (issue 15 items 3-7), against a stub upstream on localhost:
 * stalls after the headers, Retry-After, client aborts and shutdown mid-stream are protocol
 * behaviours a real model server cannot produce on demand.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LocalArtifactStore } from '../../../core/artifacts';
import { codecKeysFromEnv } from '../../../core/codec';
import { TableStore } from '../../../core/routing/store';
import { buildRoutingTable } from '../../../core/routing/table';
import { resolveGatewayConfig } from '../../../router/config';
import { startGateway, type RunningGateway } from '../../../router/gateway';
import { hashApiKey } from '../../../router/keys';
import { PromptStore } from '../../../router/prompt-store';
import type { RequestLogEntry } from '../../../router/request-log';

const KEY = 'sk-hardening-test-0001';
const CODEC_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

interface Stub {
  url: (behaviour: string) => string;
  hits: (behaviour: string) => number;
  close(): Promise<void>;
}

const completion = JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 500, completion_tokens: 500, total_tokens: 1000 } });

/** One local upstream; the first path segment of its base URL picks how it misbehaves. */
async function startStub(): Promise<Stub> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    const behaviour = req.url!.split('/')[1]!;
    const hit = (hits.get(behaviour) ?? 0) + 1;
    hits.set(behaviour, hit);
    const ok = () => res.writeHead(200, { 'content-type': 'application/json' }).end(completion);
    switch (behaviour) {
      case 'ok':
        return ok();
      case 'stall': // headers, then nothing
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.flushHeaders();
      case 'hang': // not even headers
      case 'hang-too':
        return;
      case 'slow-stream': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunks = ['a', 'b', 'c'].map((c) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: c } }] })}\n\n`);
        chunks.push('data: [DONE]\n\n');
        const timer = setInterval(() => {
          res.write(chunks.shift());
          if (chunks.length === 0) (clearInterval(timer), res.end());
        }, 150);
        return;
      }
      case 'busy-once': // 429 with a short Retry-After, then fine
        return hit === 1 ? res.writeHead(429, { 'retry-after': '1' }).end('{}') : ok();
      case 'busy-long':
        return res.writeHead(429, { 'retry-after': '120' }).end('{}');
      default:
        return res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (behaviour) => `http://127.0.0.1:${port}/${behaviour}/v1`,
    hits: (behaviour) => hits.get(behaviour) ?? 0,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('gateway hardening', () => {
  let stub: Stub;
  let dataDir: string;
  const running: RunningGateway[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    stub = await startStub();
  });
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-gateway-hard-'));
    logLines.length = 0;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.close()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(() => stub.close());

  async function gateway(overrides: Record<string, unknown> = {}): Promise<RunningGateway> {
    const config = resolveGatewayConfig({
      port: 0,
      api_keys: [hashApiKey(KEY)],
      data_dir: dataDir,
      catalog_upstreams: false,
      embeddings: { base_url: 'http://127.0.0.1:9/v1' },
      upstreams: Object.fromEntries(['ok', 'stall', 'hang', 'hang-too', 'slow-stream', 'busy-once', 'busy-long'].map((b) => [b, { base_url: stub.url(b), cost_per_1k_tokens: 0.5 }])),
      retries: { attempts: 2, backoff_ms: 10, max_backoff_ms: 2000 },
      ...overrides,
    });
    const started = await startGateway(config, (line) => logLines.push(line));
    running.push(started);
    return started;
  }

  const chat = (g: RunningGateway, model: string, extra: Record<string, unknown> = {}, key = KEY, init: RequestInit = {}) =>
    fetch(`${g.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], ...extra }),
      ...init,
    });

  function logged(file = path.join(dataDir, 'routing', 'requests.jsonl')): RequestLogEntry[] {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RequestLogEntry);
  }

  const settle = () => new Promise((r) => setTimeout(r, 100));

  describe('request log (item 3)', () => {
    it('keeps serving when the log cannot be written, and counts the failures', async () => {
      const g = await gateway({ request_log: '/dev/full' });
      expect((await chat(g, 'ok')).status).toBe(200);
      await settle();
      expect((await chat(g, 'ok')).status).toBe(200);
      await settle();
      const metrics = await (await fetch(g.url.replace(/\/v1$/, '/metrics'), { headers: { authorization: `Bearer ${KEY}` } })).text();
      expect(metrics).toMatch(/llmloop_gateway_request_log_errors_total [2-9]/);
      expect(logLines.some((l) => l.includes('request log write failed'))).toBe(true);
    });

    it('rotates by size and reopens the log by name after an external rotation', async () => {
      const g = await gateway({ request_log_rotation: { max_bytes: 1024 } });
      const file = path.join(dataDir, 'routing', 'requests.jsonl');
      for (let i = 0; i < 5; i++) expect((await chat(g, 'ok')).status).toBe(200);
      await settle();
      const rotated = fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith('requests.jsonl.'));
      expect(rotated.length).toBeGreaterThanOrEqual(1);
      const total = [file, ...rotated.map((f) => path.join(path.dirname(file), f))].flatMap((f) => logged(f));
      expect(total).toHaveLength(5);

      fs.renameSync(file, `${file}.moved`);
      g.reopenLog();
      await chat(g, 'ok');
      await settle();
      expect(logged(file)).toHaveLength(1);
    });
  });

  describe('deadlines, aborts, Retry-After and draining (item 4)', () => {
    it('answers 504 and logs it when an upstream stalls after its headers', async () => {
      const g = await gateway({ stream_idle_timeout_ms: 300 });
      const started = Date.now();
      const res = await chat(g, 'stall');
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('timeout');
      await settle();
      expect(logged()).toEqual([expect.objectContaining({ status: 504, model: 'stall', api_key: expect.stringMatching(/^key-/) })]);
      expect(logLines.filter((l) => l.includes('unexpected error'))).toEqual([]);
    });

    it('ends a stream that goes silent with an error event', async () => {
      const g = await gateway({ stream_idle_timeout_ms: 300 });
      const res = await chat(g, 'stall', { stream: true });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/"code":"idle"/);
      await settle();
      expect(logged()[0]).toMatchObject({ status: 504 });
    });

    it('bounds the whole request, fallbacks included, by request_timeout_ms', async () => {
      // A table whose one cluster ranks two hung upstreams: 'auto' would wait 2 x upstream_timeout_ms.
      const artifacts = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
      const cell = (model_id: string, cost_per_request: number) => ({ cluster_id: 0, model_id, n: 10, quality: 0.9, metrics: {}, latency_ms_mean: 10, latency_ms_p95: 20, cost_per_request });
      const table = buildRoutingTable(
        {
          version: 'pi-hang',
          created_at: '2026-12-06T00:00:00Z',
          embedding_model: 'stub',
          clusters: [{ id: 0, label: 'all', size: 1, centroid: [1, 0] }],
          models: ['hang', 'hang-too'].map((model_id) => ({ model_id, base_model: 'stub', cost_per_1k_tokens: 0 })),
          cells: [cell('hang', 0.001), cell('hang-too', 0.002)],
          eval_run: 'stub',
        },
        {},
        { createdAt: '2026-12-06T00:00:00Z' },
      );
      await TableStore.inDataDir(dataDir, artifacts).publish({ version: table.version, table: await artifacts.putJson(table), published_at: '2026-12-06T00:00:00Z', perf_index_version: 'pi-hang', embedding_model: 'stub' });
      const g = await gateway({ upstream_timeout_ms: 400, request_timeout_ms: 600, embeddings: { base_url: 'http://127.0.0.1:9/v1', timeout_ms: 100 } });
      const started = Date.now();
      const res = await chat(g, 'auto');
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(790);
      await settle();
      expect(logged()[0]).toMatchObject({ status: 504, attempts: [{ model: 'hang', outcome: 'timeout' }] });
    });

    it('records a client that gives up as 499, before the answer or in the middle of its stream', async () => {
      const g = await gateway();
      await expect(chat(g, 'hang', {}, KEY, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
      const streaming = new AbortController();
      const res = await chat(g, 'slow-stream', { stream: true }, KEY, { signal: streaming.signal });
      await res.body!.getReader().read();
      streaming.abort();
      await new Promise((r) => setTimeout(r, 300));
      expect(logged()).toEqual([expect.objectContaining({ status: 499, model: null }), expect.objectContaining({ status: 499, model: 'slow-stream' })]);
    });

    it('waits as long as Retry-After asks, and moves on when that is longer than the backoff cap', async () => {
      const g = await gateway({ cooldown: { failures_per_minute: 10, duration_ms: 1000 } });
      const started = Date.now();
      expect((await chat(g, 'busy-once')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(stub.hits('busy-once')).toBe(2);

      const before = stub.hits('busy-long');
      expect((await chat(g, 'busy-long')).status).toBe(502);
      expect(stub.hits('busy-long')).toBe(before + 1); // not retried within its Retry-After
    });

    it('lets a stream in flight finish on close, and refuses new connections', async () => {
      const g = await gateway();
      const res = await chat(g, 'slow-stream', { stream: true });
      const reader = res.body!.getReader();
      const first = await reader.read();
      const closing = g.close();
      running.splice(running.indexOf(g), 1);
      let text = new TextDecoder().decode(first.value);
      for (let next = await reader.read(); !next.done; next = await reader.read()) text += new TextDecoder().decode(next.value);
      expect(text).toMatch(/data: \[DONE\]/);
      await closing;
      await expect(chat(g, 'ok')).rejects.toThrow();
    });
  });

  describe('request bodies (item 5)', () => {
    it('refuses deeply nested JSON with a 400 instead of overflowing the stack', async () => {
      const g = await gateway();
      const deep = `{"model":"ok","messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      const res = await fetch(`${g.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: deep });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('too_deep');
    });

    it.each([
      [{ role: 'user', content: 42 }, 'content'],
      [{ role: 'user', content: [{ type: 'text', text: 7 }] }, 'text'],
      [{ role: 'user', content: [['nested']] }, 'type'],
      [{ role: 'wizard', content: 'hi' }, 'role'],
      [{ role: 'user' }, 'content'],
    ])('refuses the message %j with a 400 naming %s', async (message, field) => {
      const g = await gateway();
      const res = await chat(g, 'ok', { messages: [message] });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field);
    });

    it('accepts content parts and an assistant turn without content', async () => {
      const g = await gateway();
      const messages = [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, { role: 'assistant', content: null }, { role: 'user', content: 'and?' }];
      expect((await chat(g, 'ok', { messages })).status).toBe(200);
    });

    const feedback = (g: RunningGateway, body: unknown) => fetch(`${g.url}/feedback`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) });

    it.each([
      [{ score: 0.5 }, 'request_id'],
      [{ request_id: '', score: 0.5 }, 'request_id'],
      [{ request_id: 'r1', score: 7 }, 'score'],
      [{ request_id: 'r1', score: 0.5, comment: 3 }, 'comment'],
      [{ request_id: 'r1', score: 0.5, stars: 5 }, 'stars'],
    ])('refuses the feedback %j with a 400 naming %s (schema GatewayFeedbackBody)', async (body, field) => {
      const res = await feedback(await gateway(), body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field);
    });

    it('logs feedback that matches its schema', async () => {
      const res = await feedback(await gateway(), { request_id: 'r-scored', score: 0.25, comment: 'too short' });
      expect(res.status).toBe(202);
      await settle();
      expect(logged()).toContainEqual(expect.objectContaining({ type: 'feedback', request_id: 'r-scored', score: 0.25, comment: 'too short' }));
    });
  });

  describe('keys (item 6)', () => {
    it('accepts hashed and (deprecated) plaintext keys, names them, and warns about plaintext', async () => {
      const g = await gateway({ api_keys: [{ name: 'team-a', key: hashApiKey(KEY) }, 'sk-plaintext-key-0002'] });
      expect((await chat(g, 'ok')).status).toBe(200);
      expect((await chat(g, 'ok', {}, 'sk-plaintext-key-0002')).status).toBe(200);
      expect((await chat(g, 'ok', {}, 'sk-wrong-key-00000')).status).toBe(401);
      expect((await chat(g, 'ok', {}, hashApiKey(KEY))).status).toBe(401); // the digest itself is no key
      expect(logLines.filter((l) => l.includes('plaintext'))).toHaveLength(1);
      await settle();
      expect(logged().map((e) => e.api_key)).toEqual(['team-a', expect.stringMatching(/^key-[0-9a-f]{8}$/)]);
    });

    it('rate-limits a key with a token bucket: 429 with Retry-After', async () => {
      const g = await gateway({ api_keys: [{ name: 'limited', key: hashApiKey(KEY), rpm_limit: 2 }] });
      expect((await chat(g, 'ok')).status).toBe(200);
      expect((await chat(g, 'ok')).status).toBe(200);
      const refused = await chat(g, 'ok');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    });

    it('stops a key that spent its budget, and shows spend per key in the metrics', async () => {
      // Each answer costs 1000 tokens x 0.5 per 1k = 0.5.
      const g = await gateway({ api_keys: [{ name: 'budgeted', key: hashApiKey(KEY), max_budget: 0.9, budget_period_ms: 3600_000 }] });
      expect((await chat(g, 'ok')).status).toBe(200);
      expect((await chat(g, 'ok')).status).toBe(200);
      const refused = await chat(g, 'ok');
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
      const metrics = await (await fetch(g.url.replace(/\/v1$/, '/metrics'), { headers: { authorization: `Bearer ${KEY}` } })).text();
      expect(metrics).toMatch(/llmloop_gateway_key_spend_total\{key="budgeted"\} 1\b/);
      expect(metrics).toMatch(/llmloop_gateway_key_requests_total\{key="budgeted",status="429"\} 1/);
      expect(metrics).toMatch(/llmloop_gateway_key_rejections_total\{key="budgeted",reason="budget"\} 1/);
    });

    it('serves /metrics behind a key, or on its own listener', async () => {
      const g = await gateway();
      const metricsUrl = g.url.replace(/\/v1$/, '/metrics');
      expect((await fetch(metricsUrl)).status).toBe(401);
      expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);

      const separate = await gateway({ metrics: { port: 0 } });
      expect((await fetch(`${separate.metricsUrl}/metrics`)).status).toBe(200);
      expect((await fetch(separate.url.replace(/\/v1$/, '/metrics'), { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(404);
    });
  });

  describe('stored prompts (item 7)', () => {
    const SSN = 'My SSN is 078-05-1120, fill the form.';
    const grep = (dir: string, needle: string): string[] =>
      fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && fs.readFileSync(path.join(e.parentPath, e.name)).includes(needle)).map((e) => e.name);

    it('keeps no prompt by default', async () => {
      const g = await gateway();
      expect((await chat(g, 'ok', { messages: [{ role: 'user', content: SSN }] })).status).toBe(200);
      await settle();
      expect(grep(dataDir, '078-05-1120')).toEqual([]);
      expect(fs.existsSync(path.join(dataDir, 'routing', 'prompts'))).toBe(false);
    });

    it('stores prompts encrypted with the codec keys, readable by hash until their TTL', async () => {
      process.env.LLMLOOP_CODEC_KEYS = CODEC_KEYS;
      try {
        const g = await gateway({ store_prompts: true, prompt_ttl_ms: 60_000 });
        expect((await chat(g, 'ok', { messages: [{ role: 'user', content: SSN }] })).status).toBe(200);
        await settle();
        expect(grep(dataDir, '078-05-1120')).toEqual([]);
        const sha = logged()[0]!.prompt_sha256;
        const reader = PromptStore.inDataDir(dataDir, codecKeysFromEnv(), 0);
        expect(await reader.get(sha)).toEqual([{ role: 'user', content: SSN }]);
        const later = new PromptStore(reader.dir, codecKeysFromEnv(), 0, () => Date.now() + 61_000);
        expect(await later.get(sha)).toBeNull();
        expect(await later.sweep()).toBe(1);
      } finally {
        delete process.env.LLMLOOP_CODEC_KEYS;
      }
    });

    it('refuses to store prompts without codec keys', async () => {
      await expect(gateway({ store_prompts: true })).rejects.toThrow(/LLMLOOP_CODEC_KEYS/);
    });
  });
});
