/**
 * Model server throughput on this host, as ratios against a baseline measured in the same run:
 * sequential requests are the baseline; concurrent requests over 2 sequences and grammar-constrained
 * (json_schema) requests are compared with it. The three alternate for --rounds rounds and the
 * medians are reported, so load from other processes hits all of them alike. Also time to first
 * token when streaming.
 *   node dist/bench/model-server.js [--requests N] [--max-tokens N] [--rounds N]
 */
import OpenAI from 'openai';
import { parseArgs } from 'node:util';
import { startModelServerProcess } from '../core/stack';

const MODEL_ID = 'smollm2-135m';
const PROMPTS = ['Describe the water cycle.', 'Explain what a contract is.', 'Why is the sky blue?', 'What does a firewall do?'];
const SCHEMA = { type: 'object', properties: { topic: { type: 'string' }, points: { type: 'array', items: { type: 'string' } } }, required: ['topic', 'points'] };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '8' }, 'max-tokens': { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' } },
  });
  const rounds = Number(values.rounds);
  const requests = Number(values.requests);
  const maxTokens = Number(values['max-tokens']);
  const server = await startModelServerProcess({ modelId: MODEL_ID, parallel: 2 });
  const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
  const ask = async (i: number, constrained = false) => {
    const completion = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length]! }],
      max_tokens: maxTokens,
      temperature: 0,
      ...(constrained ? { response_format: { type: 'json_schema' as const, json_schema: { name: 'notes', schema: SCHEMA } } } : {}),
    });
    return completion.usage!.completion_tokens;
  };
  /** Completion tokens per second for `requests` requests, `concurrency` at a time. */
  const tokensPerSecond = async (concurrency: number, constrained: boolean) => {
    const started = performance.now();
    let next = 0;
    let tokens = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) tokens += await ask(next++, constrained);
      }),
    );
    return tokens / ((performance.now() - started) / 1000);
  };
  try {
    await ask(0); // warm-up: first evaluation allocates buffers
    const samples = { sequential: [] as number[], concurrent: [] as number[], constrained: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      samples.sequential.push(await tokensPerSecond(1, false));
      samples.concurrent.push(await tokensPerSecond(2, false));
      samples.constrained.push(await tokensPerSecond(1, true));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [sequential, concurrent, constrained] = [median(samples.sequential), median(samples.concurrent), median(samples.constrained)];
    const streamStart = performance.now();
    const stream = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: PROMPTS[0]! }], max_tokens: 4, stream: true });
    let firstTokenMs: number | undefined;
    for await (const chunk of stream) if (firstTokenMs === undefined && chunk.choices[0]?.delta.content) firstTokenMs = performance.now() - streamStart;
    const round = (x: number) => Math.round(x * 100) / 100;
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          requests,
          rounds,
          max_tokens: maxTokens,
          sequential_tokens_per_s: round(sequential),
          concurrent_2_tokens_per_s: round(concurrent),
          concurrent_vs_sequential: round(concurrent / sequential),
          json_schema_tokens_per_s: round(constrained),
          json_schema_vs_free: round(constrained / sequential),
          stream_first_token_ms: round(firstTokenMs ?? NaN),
        },
        null,
        2,
      ),
    );
  } finally {
    await server.service.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
