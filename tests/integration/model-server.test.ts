/**
 * The llama.cpp model server with the real SmolLM2-135M GGUF, through the official `openai` client
 * (as the dataset teacher and the gateway use it) and raw HTTP for the wire details.
 */
import Ajv from 'ajv';
import OpenAI from 'openai';
import { startModelServer, type RunningModelServer } from '../helpers/model-server';

jest.setTimeout(180_000);

let server: RunningModelServer;
let client: OpenAI;

beforeAll(async () => {
  // Two sequences and one queue slot, so the overload test can fill both.
  server = await startModelServer({ parallel: 2, maxQueue: 1 });
  client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server?.stop();
});

interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

// With SmolLM2's own template (default system turn "You are a helpful AI assistant named SmolLM...") the
// Q4_1 model answers this question with Paris only once given a system message of its own.
const question = [
  { role: 'system' as const, content: 'You are a helpful assistant.' },
  { role: 'user' as const, content: 'What is the capital of France?' },
];

async function postRaw(body: string): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

test('lists its model and reports health', async () => {
  const models = await client.models.list();
  expect(models.data.map((m) => m.id)).toEqual([server.modelId]);
  const health = await fetch(server.url.replace(/\/v1$/, '/health'));
  expect(await health.json()).toMatchObject({ status: 'ok', model: server.modelId });
});

test('greedy completion, its stream, and a stop sequence agree on the same text', async () => {
  const completion = await client.chat.completions.create({ model: server.modelId, messages: question, max_tokens: 12, temperature: 0 });
  const text = completion.choices[0]!.message.content!;
  expect(text).toMatch(/Paris/);
  expect(completion.usage!.prompt_tokens).toBeGreaterThan(5);
  expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(12);

  const response = await postRaw(JSON.stringify({ model: server.modelId, messages: question, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } }));
  expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
  const events = (await response.text()).split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event.replace(/^data: /, '')));
  expect(chunks[0].choices[0].delta.role).toBe('assistant');
  const streamed = chunks.flatMap((chunk) => chunk.choices.map((choice: { delta: { content?: string } }) => choice.delta.content ?? '')).join('');
  expect(streamed).toBe(text);
  expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason)).toHaveLength(1);
  expect(chunks.at(-1).usage).toEqual(completion.usage);

  const stopAt = text.indexOf('Paris');
  const stopped = await client.chat.completions.create({ model: server.modelId, messages: question, max_tokens: 12, temperature: 0, stop: ['Paris'] });
  expect(stopped.choices[0]!.message.content).toBe(text.slice(0, stopAt));
  expect(stopped.choices[0]!.finish_reason).toBe('stop');
});

test('json_schema response_format is enforced: the output parses and validates', async () => {
  const schema = {
    type: 'object',
    properties: { answer: { type: 'string', enum: ['yes', 'no'] } },
    required: ['answer'],
    additionalProperties: false,
  };
  const completion = await client.chat.completions.create({
    model: server.modelId,
    messages: [{ role: 'user', content: 'Is Paris in France? Answer yes or no.' }],
    max_tokens: 16,
    temperature: 0.7,
    seed: 7,
    response_format: { type: 'json_schema', json_schema: { name: 'yes_no', schema } },
  });
  const parsed: unknown = JSON.parse(completion.choices[0]!.message.content!);
  expect(new Ajv().validate(schema, parsed)).toBe(true);
});

test('errors come back in OpenAI shape with the right status', async () => {
  const malformed = await postRaw('{"messages": [');
  expect(malformed.status).toBe(400);
  expect(await malformed.json()).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error', code: 'invalid_json', message: expect.any(String) }) });

  const badTemperature = await postRaw(JSON.stringify({ messages: question, temperature: 5 }));
  expect(badTemperature.status).toBe(400);
  expect(((await badTemperature.json()) as ErrorBody).error.param).toBe('temperature');

  await expect(client.chat.completions.create({ model: 'gpt-4o', messages: question, max_tokens: 1 })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });

  const unknownRoute = await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{}' });
  expect(unknownRoute.status).toBe(404);
  expect(((await unknownRoute.json()) as ErrorBody).error.type).toBe('not_found_error');
});

test('a bounded queue: requests beyond sequences + queue are refused with 503, the rest are served', async () => {
  const request = () => postRaw(JSON.stringify({ messages: question, max_tokens: 4, temperature: 0 }));
  const statuses = (await Promise.all([request(), request(), request(), request()])).map((r) => r.status).sort();
  expect(statuses).toEqual([200, 200, 200, 503]);
});
