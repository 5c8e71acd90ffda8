/** The llama.cpp model server's HTTP guard rails (bind, key, limits), with a stand-in engine: no model is loaded. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LlamaEngine } from '../../../serving/llama-engine';
import { createModelServer, parseModelServerArgs } from '../../../serving/model-server';

describe('model server HTTP guard rails', () => {
  let server: http.Server;
  let base: string;
  const generated: unknown[] = [];

  beforeAll(async () => {
    const engine = {
      contextSize: 2048,
      generate: async (request: unknown) => (generated.push(request), { text: 'hi', finishReason: 'stop', promptTokens: 1, completionTokens: 1 }),
    } as unknown as LlamaEngine;
    server = createModelServer(engine, { modelId: 'stub', host: '127.0.0.1', port: 0, apiKey: 'sk-model-test-key' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const chat = (messages: unknown[], key?: string) =>
    fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ messages }) });

  it('asks for its key on every route but /health', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/v1/models`)).status).toBe(401);
    expect((await chat([{ role: 'user', content: 'hi' }], 'sk-wrong')).status).toBe(401);
    expect(generated).toHaveLength(0);
    expect((await chat([{ role: 'user', content: 'hi' }], 'sk-model-test-key')).status).toBe(200);
  });

  it('caps the messages of one request', async () => {
    const res = await chat(Array.from({ length: 1025 }, () => ({ role: 'user', content: 'x' })), 'sk-model-test-key');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('messages');
  });

  it('binds to loopback by default and reads its key from the environment', () => {
    const options = parseModelServerArgs(['--model-path', '/models/x.gguf', '--model-id', 'custom'], { LLMLOOP_MODEL_SERVER_API_KEY: 'sk-env' });
    expect(options).toMatchObject({ host: '127.0.0.1', apiKey: 'sk-env' });
    expect(parseModelServerArgs(['--model-path', '/models/x.gguf', '--model-id', 'custom'], {})).not.toHaveProperty('apiKey');
  });
});
