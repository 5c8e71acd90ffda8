/**
 * What serving each catalog GGUF model costs on this host, relative to the first (the baseline), for
 * the catalog's `cost_per_1k_tokens` (USD per 1000 prompt + completion tokens). Every model runs in its
 * own llama.cpp server (serving/model-server.ts, same threads and settings); each round sends the same
 * greedy requests to every model in turn, so load from other processes hits them alike; medians over
 * --rounds. Per model: wall seconds per 1000 served tokens (prompt + completion, which is what the
 * catalog prices), decode tokens/s (streamed tokens after the first), and the cost that keeps the
 * baseline's catalog cost and scales by the seconds per 1000 tokens.
 *   node dist/bench/serving-cost.js [--models smollm2-135m,gemma3-270m] [--max-tokens 48] [--rounds 3]
 */
import OpenAI from 'openai';
import { parseArgs } from 'node:util';
import { getCatalogModel, loadCatalog } from '../core/catalog';
import { startModelServerProcess } from '../core/stack';

const PROMPTS = [
  'Summarise in two sentences: The quarterly report shows revenue up 12% while costs stayed flat, driven by the new subscription plan.',
  'Classify this ticket as billing, technical or account: "I was charged twice for my March invoice."',
  'Rewrite formally: hey, the meeting got moved to thursday, can u make it?',
  'Explain why the sky is blue.',
];

interface Sample {
  secondsPer1kTokens: number;
  decodeTokensPerSecond: number;
}

/** One pass over PROMPTS, streamed so that decoding can be told apart from prompt evaluation. */
async function measure(client: OpenAI, modelId: string, maxTokens: number): Promise<Sample> {
  let tokens = 0;
  let wallMs = 0;
  let decodedTokens = 0;
  let decodeMs = 0;
  for (const prompt of PROMPTS) {
    const started = performance.now();
    let firstTokenAt: number | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    const stream = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: prompt }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      if (firstTokenAt === undefined && chunk.choices[0]?.delta.content) firstTokenAt = performance.now();
      if (chunk.usage) usage = chunk.usage;
    }
    const finished = performance.now();
    tokens += usage!.prompt_tokens + usage!.completion_tokens;
    wallMs += finished - started;
    decodedTokens += Math.max(0, usage!.completion_tokens - 1);
    decodeMs += finished - (firstTokenAt ?? finished);
  }
  return { secondsPer1kTokens: wallMs / tokens, decodeTokensPerSecond: decodedTokens / (decodeMs / 1000) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { models: { type: 'string', default: 'smollm2-135m,gemma3-270m' }, 'max-tokens': { type: 'string', default: '48' }, rounds: { type: 'string', default: '3' } },
  });
  const modelIds = values.models!.split(',');
  const maxTokens = Number(values['max-tokens']);
  const rounds = Number(values.rounds);
  const catalog = loadCatalog();
  const servers = await Promise.all(modelIds.map((modelId) => startModelServerProcess({ modelId, parallel: 1 })));
  try {
    const clients = servers.map((server) => new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 }));
    for (const [i, client] of clients.entries()) await measure(client, modelIds[i]!, 4); // warm-up: first evaluation allocates buffers
    const samples: Sample[][] = modelIds.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, client] of clients.entries()) samples[i]!.push(await measure(client, modelIds[i]!, maxTokens));
    }
    const secondsPer1k = samples.map((s) => median(s.map((x) => x.secondsPer1kTokens)));
    const baselineCost = getCatalogModel(catalog, modelIds[0]!).cost_per_1k_tokens;
    const round = (x: number, digits = 3) => Number(x.toPrecision(digits));
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          rounds,
          max_tokens: maxTokens,
          prompts: PROMPTS.length,
          models: modelIds.map((modelId, i) => ({
            model_id: modelId,
            seconds_per_1k_tokens: round(secondsPer1k[i]!),
            decode_tokens_per_s: round(median(samples[i]!.map((x) => x.decodeTokensPerSecond))),
            vs_baseline: round(secondsPer1k[i]! / secondsPer1k[0]!),
            catalog_cost_per_1k_tokens: getCatalogModel(catalog, modelId).cost_per_1k_tokens,
            measured_cost_per_1k_tokens: round((baselineCost * secondsPer1k[i]!) / secondsPer1k[0]!, 2),
          })),
        },
        null,
        2,
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => server.service.stop()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
