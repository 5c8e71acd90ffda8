/**
 * Transport behaviour of the chat client against a scripted local HTTP endpoint: the failures a real
 * server produces only by accident (503s, hangs, refusing response_format) are produced on purpose
 * here. The real SmolLM2 server is exercised in tests/integration/build-dataset-teacher.test.ts.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ChatClient } from '../../../core/llm/client';
import { TypedError } from '../../../core/errors';

type Reply = { status: number; body: unknown; delayMs?: number };

async function scriptedServer(script: (request: Record<string, unknown>, n: number) => Reply) {
  const requests: Record<string, unknown>[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      requests.push(body);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const reply = script(body, requests.length);
      setTimeout(() => {
        inFlight--;
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, requests, maxInFlight: () => maxInFlight, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const ok = (content: string): Reply => ({ status: 200, body: { choices: [{ message: { role: 'assistant', content } }] } });
const ask = { messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 8, temperature: 0 };

describe('ChatClient', () => {
  it('retries transient 503s with backoff and caches the answer so a replay never calls again', async () => {
    const server = await scriptedServer((_, n) => (n < 3 ? { status: 503, body: { error: 'busy' } } : ok('hello')));
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-cache-'));
    try {
      const client = new ChatClient({ baseUrl: server.url, model: 'm', backoffMs: 5, cacheDir });
      expect(await client.complete(ask)).toEqual({ content: 'hello', cached: false, constrained: false });
      expect(server.requests).toHaveLength(3);
      const replay = new ChatClient({ baseUrl: server.url, model: 'm', cacheDir });
      expect(await replay.complete(ask)).toEqual({ content: 'hello', cached: true, constrained: false });
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('fails with LlmTimeout when the server does not answer in time', async () => {
    const server = await scriptedServer(() => ({ ...ok('late'), delayMs: 500 }));
    try {
      const client = new ChatClient({ baseUrl: server.url, model: 'm', timeoutMs: 100, maxRetries: 1, backoffMs: 5 });
      await expect(client.complete(ask)).rejects.toMatchObject({ type: 'LlmTimeout' });
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('does not retry a request the server rejects as invalid', async () => {
    const server = await scriptedServer(() => ({ status: 400, body: { error: 'bad model' } }));
    try {
      const client = new ChatClient({ baseUrl: server.url, model: 'm', backoffMs: 5 });
      const err = await client.complete(ask).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TypedError);
      expect(err).toMatchObject({ type: 'LlmRequestRejected', nonRetryable: true });
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('sends response_format json_schema, and falls back to unconstrained output when the server refuses it', async () => {
    const server = await scriptedServer((req) => (req.response_format ? { status: 400, body: { error: 'response_format is not supported' } } : ok('{"answer":"x"}')));
    try {
      const client = new ChatClient({ baseUrl: server.url, model: 'm' });
      const result = await client.complete({ ...ask, json_schema: { name: 'a', schema: { type: 'object' } } });
      expect(result).toMatchObject({ content: '{"answer":"x"}', constrained: false });
      expect(server.requests[0]!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object' }, strict: true } });
    } finally {
      await server.close();
    }
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const server = await scriptedServer(() => ({ ...ok('x'), delayMs: 30 }));
    try {
      const client = new ChatClient({ baseUrl: server.url, model: 'm', concurrency: 2 });
      await Promise.all(Array.from({ length: 6 }, (_, i) => client.complete({ ...ask, messages: [{ role: 'user', content: `q${i}` }] })));
      expect(server.requests).toHaveLength(6);
      expect(server.maxInFlight()).toBe(2);
    } finally {
      await server.close();
    }
  });
});
