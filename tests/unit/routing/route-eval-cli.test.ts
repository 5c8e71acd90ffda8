/**
 * route-eval end to end on the real RouteLLM score matrix (a deterministic subsample) with real
 * all-MiniLM-L6-v2 embeddings through `python -m trainers.embedding embed`. The full run is the
 * documented command in docs/routing.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { routeEvalCommand } from '../../../cli/commands/route-eval';
import { REPO_ROOT } from '../../../core/config';
import { schemaProblems } from '../../../core/schemas';
import type { RouteEvalReport } from '../../../schemas/generated/types';

jest.setTimeout(600_000);

const SCORES = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'routing', 'routellm-mmlu-gsm8k.csv');
const GPT4 = 'gpt-4-1106-preview';
const MIXTRAL = 'mistralai/Mixtral-8x7B-Instruct-v0.1';

describe('llmloop route-eval on real data', () => {
  const originalDataDir = process.env.LLMLOOP_DATA_DIR;
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-route-eval-'));
    process.env.LLMLOOP_DATA_DIR = work;
  });
  afterAll(() => {
    process.env.LLMLOOP_DATA_DIR = originalDataDir;
    fs.rmSync(work, { recursive: true, force: true });
  });

  const run = (out: string) => routeEvalCommand.run(['--scores', SCORES, '--out', out, '--cost', `${MIXTRAL}=0.0006`, '--cost', `${GPT4}=0.01`, '--sample', '120', '--clusters', '4', '--seed', '3']);

  it('writes a schema-valid report and plot whose baselines agree with the data, and embeds nothing twice', async () => {
    const summaries = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = path.join(work, 'report.json');
    expect(await run(out)).toBe(0);
    expect(JSON.parse(summaries.mock.calls[0]![0] as string).embedded).toBe(120);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as RouteEvalReport;
    expect(schemaProblems('RouteEvalReport', report)).toEqual([]);
    expect(report.n_train + report.n_test).toBe(120);
    expect(report.embedding_model).toBe('sentence-transformers/all-MiniLM-L6-v2');

    const [mixtral, gpt4] = [MIXTRAL, GPT4].map((m) => report.single_models.find((s) => s.model === m)!);
    expect(gpt4!.cost).toBeCloseTo(report.n_test * 0.01, 9);
    expect(mixtral!.cost).toBeCloseTo(report.n_test * 0.0006, 9);
    // The oracle is at least as good as either model and never dearer than always using GPT-4.
    expect(report.oracle.quality).toBeGreaterThanOrEqual(Math.max(gpt4!.quality, mixtral!.quality));
    expect(report.oracle.cost).toBeLessThanOrEqual(gpt4!.cost + 1e-9);
    // Every router family on the same split; the widest tolerance sends every prompt to Mixtral.
    expect(report.routers!.map((r) => r.name)).toEqual(['clusters', 'knn', 'mf', 'mlp', 'blend']);
    for (const router of report.routers!) expect(router.curve[router.curve.length - 1]!.cost).toBeCloseTo(mixtral!.cost, 9);
    const chosen = report.routers!.find((r) => r.name === report.chosen_router!.name)!;
    expect(report.router_curve).toEqual(chosen.curve);
    // Chosen on validation: nothing scored better there by more than its standard error.
    expect(Math.max(...report.routers!.map((r) => r.validation_aiq)) - chosen.validation_aiq).toBeLessThanOrEqual(chosen.validation_aiq_se ?? 0);
    expect(report.aiq.router).toBeGreaterThan(0);
    expect(report.aiq.zero_router).toBeCloseTo((gpt4!.quality + mixtral!.quality) / 2, 9);
    expect(fs.readFileSync(path.join(work, 'report.html'), 'utf8')).toMatch(/<svg[\s\S]*polyline[\s\S]*<\/svg>/);

    // Second run: every vector comes from the content-hash cache and the report is identical.
    const again = path.join(work, 'again.json');
    expect(await run(again)).toBe(0);
    expect(JSON.parse(summaries.mock.calls[1]![0] as string).embedded).toBe(0);
    summaries.mockRestore();
    expect(JSON.parse(fs.readFileSync(again, 'utf8'))).toEqual(report);
  });
});
