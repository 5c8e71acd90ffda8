import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../core/config';
import { embedTextsCached } from '../../core/routing/embeddings';
import { evaluateRouter } from '../../core/routing/offline-eval';
import { renderRouteEvalHtml } from '../../core/routing/report-html';
import { parseScoreMatrix } from '../../core/routing/score-matrix';
import { validate } from '../../core/schemas';
import { EXIT, UsageError, type Command } from '../command';
import { numberFlag } from '../flags';

/** `MODEL=USD` pairs; the model part may itself contain '=' only before the last one. */
function parseCosts(pairs: readonly string[]): Record<string, number> {
  const costs: Record<string, number> = {};
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=');
    const value = Number(pair.slice(at + 1));
    if (at <= 0 || !Number.isFinite(value) || value < 0) throw new UsageError(`--cost expects MODEL=USD with a non-negative number, got ${JSON.stringify(pair)}`);
    costs[pair.slice(0, at)] = value;
  }
  return costs;
}

export const routeEvalCommand: Command = {
  name: 'route-eval',
  summary: 'evaluate a content-aware router offline on a per-prompt score matrix (quality-cost curve, AIQ)',
  usage: `llmloop route-eval --scores FILE.csv --out REPORT.json [--cost MODEL=USD ...] [--seed S]
                   [--clusters K] [--sample N] [--embedding-model NAME]

Reads a score matrix (columns id, prompt, group?, split?, score__<model>..., cost__<model>...),
embeds the prompts (python -m trainers.embedding, cached by content hash under
$LLMLOOP_DATA_DIR/cache/embeddings), fits K k-means clusters (default 10) and the per-cluster
index on the train split, routes the test split over a sweep of the selection tolerance and
writes REPORT.json (schema RouteEvalReport) and REPORT.html (quality-cost plot).

  --cost MODEL=USD   per-request cost of a model without cost__<model> columns (repeatable)
  --seed S           seed of k-means, the 70/30 split when the CSV has none, the random baseline (default 0)
  --clusters K       k-means clusters (default 10; at most the number of train prompts, with a warning)
  --sample N         evaluate a deterministic subsample of N >= 1 rows (every row when absent)
Rows with bad values are left out and listed on stderr.`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        scores: { type: 'string' },
        out: { type: 'string' },
        cost: { type: 'string', multiple: true },
        seed: { type: 'string' },
        clusters: { type: 'string' },
        sample: { type: 'string' },
        'embedding-model': { type: 'string' },
      },
    });
    if (!values.scores) throw new UsageError('--scores FILE.csv is required');
    if (!values.out) throw new UsageError('--out REPORT.json is required');
    const seed = numberFlag('--seed', values.seed, { integer: true }) ?? 0;
    const sample = numberFlag('--sample', values.sample, { integer: true, min: 1 });
    const clusters = numberFlag('--clusters', values.clusters, { integer: true, min: 1 }) ?? 10;
    const matrix = parseScoreMatrix(await fs.readFile(values.scores, 'utf8'), { costs: parseCosts(values.cost ?? []), seed });
    for (const row of matrix.rejected) console.error(`route-eval: record ${row.record} left out: ${row.reason}`);
    if (sample !== undefined) matrix.prompts = evenlySpaced(matrix.prompts, sample);

    const embedded = await embedTextsCached(
      matrix.prompts.map((p) => p.prompt),
      { cacheDir: path.join(loadConfig().dataDir, 'cache', 'embeddings'), ...(values['embedding-model'] ? { model: values['embedding-model'] } : {}) },
    );
    const report = validate('RouteEvalReport', {
      ...evaluateRouter(matrix, embedded.vectors, { clusters, seed }),
      embedding_model: embedded.modelId,
    });
    if (report.n_clusters !== undefined && report.n_clusters < clusters) console.error(`route-eval: warning: --clusters ${clusters} lowered to ${report.n_clusters}, the number of train prompts`);
    await fs.mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
    await fs.writeFile(values.out, JSON.stringify(report, null, 2) + '\n');
    const htmlPath = values.out.replace(/\.json$/i, '') + '.html';
    await fs.writeFile(htmlPath, renderRouteEvalHtml(report, `Router evaluation: ${path.basename(values.scores)}`));
    console.log(
      JSON.stringify({
        report: values.out,
        html: htmlPath,
        n_train: report.n_train,
        n_test: report.n_test,
        embedded: embedded.embedded,
        aiq: { router: round(report.aiq.router), zero_router: round(report.aiq.zero_router) },
        cost_at_95pct_best_quality: report.cost_at_95pct_best_quality === null ? null : round(report.cost_at_95pct_best_quality),
      }),
    );
    return EXIT.ok;
  },
};

/** Four significant digits: what the summary line needs (REPORT.json keeps every digit). */
function round(value: number): number {
  return Number(value.toPrecision(4));
}

/** Every (len/n)-th row: deterministic, and it keeps the file's mix of groups and splits. */
function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  if (n >= items.length) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}
