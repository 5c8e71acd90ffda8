/**
 * `llmloop efficacy` end to end on a real dev server with the real workers (core/stack processes)
 * and a real (tiny) lifecycle: efficacy.json is schema-valid, tuned-vs-base deltas are paired on the
 * very same test samples, the offline replay picks what the real gateway picks for each test prompt,
 * and a rerun reuses the lifecycle's finished stages. SmolLM2 only: Gemma-3-270M's first load alone
 * takes minutes here (docs/training.md); the real run on both models is `make efficacy`.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runEfficacy, type EfficacyRun } from '../../cli/commands/efficacy';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { lastUserText } from '../../core/chat-messages';
import { tasksFromDataset } from '../../core/cluster';
import { loadConfig, REPO_ROOT } from '../../core/config';
import { TableStore } from '../../core/routing/store';
import { schemaProblems } from '../../core/schemas';
import { resolveGatewayConfig } from '../../router/config';
import { startGateway } from '../../router/gateway';
import type { DatasetManifest, EfficacyReport } from '../../schemas/generated/types';
import { startEmbeddingServer } from '../helpers/embedding-server';

jest.setTimeout(600_000);

const API_KEY = 'sk-efficacy-test';
const SAMPLES = path.join(REPO_ROOT, 'samples', 'corpus');
const DOCS = ['pump-station-report.docx', 'q3-operations-review-zh.docx', 'cooling-upgrade.pptx', 'incident-log.xlsx'].map((f) => path.join(SAMPLES, f));
/** Every split from its own documents, tiny steps: what the loop does, not how well. */
const TINY_CONFIG = {
  models: [{ model_id: 'smollm2-135m', recipe: 'lora' }],
  dataset: { seed: 7, split_ratios: { train: 0.5, validation: 0.25, test: 0.25 } },
  training: { stages: ['sft'], hyperparameters: { sft: { max_steps: 2, batch_size: 1, max_length: 512, lora_r: 4, lora_alpha: 8, threads: 1 } } },
  evaluate_base_models: true,
  evaluation: { clustering: { k_min: 2, k_max: 2, seed: 1 }, max_samples_per_cluster: 3, max_new_tokens: 8, max_validation_samples: 2, bootstrap_resamples: 20 },
  constraints: { tolerance: 0.05 },
  publish: { margin: 0.01, approval_timeout_s: 1 },
};

interface SampleRow {
  task_id: string;
  split: string;
  quality: number;
}

/** A chat-completions upstream that answers every request at once: the test checks the gateway's choice, not the answer. */
async function startEchoUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const model = (JSON.parse(body) as { model?: string }).model ?? 'unknown';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

describe('llmloop efficacy on a tiny corpus', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-efficacy-'));
  const configFile = path.join(work, 'efficacy.tiny.json');
  fs.writeFileSync(configFile, JSON.stringify(TINY_CONFIG));
  const store = artifactStoreFromEnv();
  let first: EfficacyRun;
  // Loads its model while the lifecycle runs: the replay test needs it, not the lifecycle.
  const embeddings = startEmbeddingServer();

  afterAll(async () => {
    await (await embeddings).stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs the lifecycle and writes a schema-valid efficacy.json and a self-contained efficacy.html', async () => {
    first = await runEfficacy({ docs: DOCS, outDir: path.join(work, 'out'), minutes: 9, configFile });
    const written = JSON.parse(fs.readFileSync(first.jsonPath, 'utf8')) as EfficacyReport;
    expect(schemaProblems('EfficacyReport', written)).toEqual([]);
    expect(written.n_test).toBeGreaterThan(0);
    expect(written.test_documents.length).toBeGreaterThan(0);
    expect(written.candidates.map((c) => [c.base_model, c.adapter])).toEqual([
      ['smollm2-135m', false],
      ['smollm2-135m', true],
    ]);
    expect(written.run!.stages.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done']);
    const html = fs.readFileSync(first.htmlPath, 'utf8');
    expect(html.indexOf('Verdict')).toBeLessThan(html.indexOf('Candidates on the test split'));
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
  });

  it('computes tuned-vs-base deltas on identical test sample ids', async () => {
    const { report, perfIndex: index } = first;
    const rows = async (modelId: string) => {
      const model = index.models.find((m) => m.model_id === modelId)!;
      const text = (await store.get(model.samples!)).toString('utf8');
      return new Map(text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SampleRow).filter((r) => r.split === 'test').map((r) => [r.task_id, r.quality]));
    };
    const [gain] = report.gains;
    const base = await rows(report.candidates.find((c) => !c.adapter)!.name);
    const tuned = await rows(gain!.tuned!);
    expect([...base.keys()].sort()).toEqual(first.testTaskIds);
    expect([...tuned.keys()].sort()).toEqual(first.testTaskIds);
    const paired = first.testTaskIds.map((id) => tuned.get(id)! - base.get(id)!);
    expect(gain!.delta.n).toBe(first.testTaskIds.length);
    expect(gain!.delta.mean).toBeCloseTo(paired.reduce((a, b) => a + b, 0) / paired.length, 9);
    expect(gain!.delta.ci_low).toBeLessThanOrEqual(gain!.delta.mean);
    expect(gain!.delta.ci_high).toBeGreaterThanOrEqual(gain!.delta.mean);
  });

  it('replays each test request to the model the real gateway routes it to', async () => {
    const { report, perfIndex: index, table } = first;
    // The gateway serves the live table: the lifecycle published the one the report replayed.
    expect((await TableStore.inDataDir(loadConfig().dataDir, store).current())?.version).toBe(table.version);
    const dataset = await store.getJson<DatasetManifest>(index.dataset!);
    const { tasks } = await tasksFromDataset(dataset, async (e) => (await store.get(e.artifact)).toString('utf8'));
    const textOf = new Map(tasks.map((t) => [t.id, lastUserText(t.messages)]));
    const upstream = await startEchoUpstream();
    const gateway = await startGateway(
      resolveGatewayConfig({
        port: 0,
        api_keys: [API_KEY],
        data_dir: loadConfig().dataDir,
        catalog_upstreams: false,
        store_prompts: false,
        request_log: path.join(work, 'requests.jsonl'),
        embeddings: { base_url: (await embeddings).url },
        upstreams: Object.fromEntries(index.models.map((m) => [m.model_id, { base_url: upstream.url }])),
      }),
      () => undefined,
    );
    try {
      const routed: string[] = [];
      for (const id of first.testTaskIds) {
        const response = await fetch(`${gateway.url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: textOf.get(id) }], max_tokens: 4 }),
        });
        expect(response.status).toBe(200);
        expect(response.headers.get('x-llmloop-table-version')).toBe(table.version);
        routed.push(response.headers.get('x-llmloop-model')!);
      }
      expect(routed).toEqual(first.choices);
      const counts: Record<string, number> = {};
      for (const model of routed) counts[model] = (counts[model] ?? 0) + 1;
      expect(report.routing.choices).toEqual(counts);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('reuses the finished stages on a rerun and reports the same figures', async () => {
    const again = await runEfficacy({ docs: DOCS, outDir: path.join(work, 'out'), minutes: 9, configFile });
    expect(again.report.run!.stages.map((s) => [s.stage, s.status])).toEqual([
      ['ingest', 'done'],
      ['dataset', 'reused'],
      ['train', 'reused'],
      ['evaluate', 'reused'],
      ['publish', 'done'],
    ]);
    const { wall_seconds: _a, run: _b, ...figures } = again.report;
    const { wall_seconds: _c, run: _d, ...before } = first.report;
    expect(figures).toEqual(before);
    expect(again.report.wall_seconds).toBeLessThan(first.report.wall_seconds);
  });
});
