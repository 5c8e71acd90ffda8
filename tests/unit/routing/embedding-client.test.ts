import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeEmbedding, EmbeddingClient } from '../../../router/embedding-client';

const vector = [0.25, -1.5, 3.0e-8, 1];
const base64Of = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');

describe('decodeEmbedding', () => {
  it('reads base64 little-endian float32, as OpenAI encodes it', () => {
    expect(Array.from(decodeEmbedding(base64Of(vector)))).toEqual(Array.from(new Float32Array(vector)));
  });

  it('accepts plain float arrays from servers that ignore encoding_format', () => {
    expect(Array.from(decodeEmbedding(vector))).toEqual(Array.from(new Float32Array(vector)));
  });

  it.each([
    ['', 'base64'],
    ['AAAAAAA=', 'base64'],
    [[], 'no vector'],
    [['0.1'], 'no vector'],
    [undefined, 'no vector'],
  ])('rejects %p', (embedding, message) => {
    expect(() => decodeEmbedding(embedding)).toThrow(message);
  });
});

describe('EmbeddingClient', () => {
  let server: http.Server;
  let baseUrl: string;
  const requests: unknown[] = [];
  const authorizations: (string | undefined)[] = [];
  let answer: (body: { input: string }) => unknown;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const body = JSON.parse(raw) as { input: string };
        requests.push(body);
        authorizations.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('asks for base64 and decodes the answer', async () => {
    answer = () => ({ data: [{ index: 0, embedding: base64Of(vector) }] });
    const embedded = await new EmbeddingClient({ baseUrl, model: 'default', timeoutMs: 2000 }).embed('hello');
    expect(Array.from(embedded)).toEqual(Array.from(new Float32Array(vector)));
    expect(requests.at(-1)).toEqual({ model: 'default', input: 'hello', encoding_format: 'base64' });
  });

  it('fails clearly on a reply without a vector', async () => {
    answer = () => ({ data: [] });
    await expect(new EmbeddingClient({ baseUrl, model: 'default', timeoutMs: 2000 }).embed('hello')).rejects.toThrow('no vector');
  });

  it('asks for a router by artifact and reads its per-model predictions from the same reply', async () => {
    answer = () => ({ data: [{ index: 0, embedding: base64Of(vector), quality: [0.25, 0.75] }], router_models: ['big', 'small'] });
    const routed = await new EmbeddingClient({ baseUrl, model: 'default', timeoutMs: 2000 }).embedAndPredict('hello', 'ab'.repeat(32));
    expect(requests.at(-1)).toEqual({ model: 'default', input: 'hello', encoding_format: 'base64', llmloop_router: 'ab'.repeat(32) });
    expect([...routed.predicted!]).toEqual([
      ['big', 0.25],
      ['small', 0.75],
    ]);
    answer = () => ({ data: [{ index: 0, embedding: base64Of(vector), quality: [0.25] }], router_models: ['big', 'small'] });
    await expect(new EmbeddingClient({ baseUrl, model: 'default', timeoutMs: 2000 }).embedAndPredict('hello', 'ab'.repeat(32))).rejects.toThrow('no router predictions');
  });

  it('sends the embedding server its key when one is set', async () => {
    answer = () => ({ data: [{ index: 0, embedding: base64Of(vector) }] });
    await new EmbeddingClient({ baseUrl, model: 'default', timeoutMs: 2000, apiKey: 'sk-embed' }).embed('hello');
    expect(authorizations.at(-1)).toBe('Bearer sk-embed');
    await new EmbeddingClient({ baseUrl, model: 'default', timeoutMs: 2000 }).embed('hello');
    expect(authorizations.at(-1)).toBeUndefined();
  });
});
