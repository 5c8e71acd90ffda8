import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { loadConfig } from '../../core/config';
import { embedTextsCached } from '../../core/routing/embeddings';
import { evaluateRouters, splitsOf } from '../../core/routing/offline-eval';
import { fitRouterFamilies } from '../../core/routing/predictors';
import { renderRouteEvalHtml } from '../../core/routing/report-html';
import { parseScoreMatrix } from '../../core/routing/score-matrix';
import { validate } from '../../core/schemas';
import { EXIT, UsageError, type Command } from '../command';
import { numberFlag } from '../flags';
import type { TableRouter } from '../../schemas/generated/types';

const ROUTER_MEDIA_TYPE = 'application/vnd.llmloop.router+npz';

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
                   [--clusters K] [--sample N] [--embedding-model NAME | --vectors FILE.f32]
                   [--router-out ROUTER.npz] [--store-router]

Reads a score matrix (columns id, prompt, group?, split?, score__<model>..., cost__<model>...),
embeds the prompts (python -m trainers.embedding, cached by content hash under
$LLMLOOP_DATA_DIR/cache/embeddings), carves a validation split (20%) from train, fits every
router family (per-cluster means with K clusters, kNN, MLP, matrix factorisation, their blend;
python -m trainers.router_predictors), routes the test split with each over a sweep of the
selection tolerance, chooses the router by validation AIQ and writes REPORT.json (schema
RouteEvalReport) and REPORT.html (quality-cost plot of every router).

  --cost MODEL=USD   per-request cost of a model without cost__<model> columns (repeatable)
  --seed S           seed of k-means, the 70/30 split when the CSV has none, the random baseline (default 0)
  --clusters K       k-means clusters (default 10; at most the number of train prompts, with a warning)
  --sample N         evaluate a deterministic subsample of N >= 1 rows (every row when absent)
  --vectors FILE.f32 precomputed unit-length float32 embeddings, one row per CSV record in file order
                     (rejected records included), instead of embedding the prompts
  --router-out FILE  save the chosen router (refitted on all of train) as a router file
  --store-router     store the chosen router in the artifact store and print its TableRouter (the
                     'router' of a publishRoutingTable input)
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
        vectors: { type: 'string' },
        'router-out': { type: 'string' },
        'store-router': { type: 'boolean' },
      },
    });
    if (!values.scores) throw new UsageError('--scores FILE.csv is required');
    if (!values.out) throw new UsageError('--out REPORT.json is required');
    const seed = numberFlag('--seed', values.seed, { integer: true }) ?? 0;
    const sample = numberFlag('--sample', values.sample, {
      integer: true,
      min: 1,
    });
    const clusters = numberFlag('--clusters', values.clusters, { integer: true, min: 1 }) ?? 10;
    const matrix = parseScoreMatrix(await fs.readFile(values.scores, 'utf8'), {
      costs: parseCosts(values.cost ?? []),
      seed,
    });
    for (const row of matrix.rejected) console.error(`route-eval: record ${row.record} left out: ${row.reason}`);
    let embedded = values.vectors
      ? await readVectors(
          values.vectors,
          matrix.prompts.length + matrix.rejected.length,
          matrix.rejected.map((r) => r.record),
        )
      : null;
    if (sample !== undefined) {
      const kept = evenlySpaced(
        matrix.prompts.map((_, i) => i),
        sample,
      );
      matrix.prompts = kept.map((i) => matrix.prompts[i]!);
      if (embedded)
        embedded = {
          ...embedded,
          vectors: kept.map((i) => embedded!.vectors[i]!),
        };
    }

    embedded ??= await embedWithProgress(
      matrix.prompts.map((p) => p.prompt),
      path.join(loadConfig().dataDir, 'cache', 'embeddings'),
      values['embedding-model'],
    );
    const splits = splitsOf(matrix, seed);
    console.error(`route-eval: fitting router families on ${splits.fit.length} prompts, validating on ${splits.validation.length}, testing on ${splits.test.length}`);
    const fitted = await fitRouterFamilies(
      embedded.vectors,
      matrix.prompts.map((p) => matrix.models.map((m) => p.scores[m]!)),
      splits,
      {
        models: matrix.models,
        clusters,
        seed,
        embeddingModel: embedded.modelId,
      },
    );
    let report;
    let tableRouter: TableRouter | undefined;
    try {
      report = validate('RouteEvalReport', {
        ...evaluateRouters(matrix, splits, fitted.families, { seed }),
        embedding_model: embedded.modelId,
      });
      const chosen = report.routers!.find((r) => r.name === report!.chosen_router!.name)!;
      const routerFile = fitted.routerFiles[chosen.name]!;
      if (values['router-out']) await fs.copyFile(routerFile, values['router-out']);
      if (values['store-router']) {
        const artifact = await artifactStoreFromEnv().put(await fs.readFile(routerFile), ROUTER_MEDIA_TYPE);
        tableRouter = { artifact, name: chosen.name, embedding_model: embedded.modelId, validation_aiq: chosen.validation_aiq };
      }
    } finally {
      await fitted.dispose();
    }
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
        chosen_router: report.chosen_router,
        ...(tableRouter ? { table_router: tableRouter } : {}),
        aiq: {
          router: round(report.aiq.router),
          zero_router: round(report.aiq.zero_router),
          ...Object.fromEntries((report.routers ?? []).map((r) => [r.name, round(r.aiq)])),
        },
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

/** Embeds in slices so a long run shows its progress (each slice is cached as soon as it is done). */
async function embedWithProgress(texts: readonly string[], cacheDir: string, model: string | undefined): Promise<{ vectors: Float32Array[]; modelId: string; embedded: number }> {
  const vectors: Float32Array[] = [];
  let modelId = '';
  let embedded = 0;
  const started = Date.now();
  for (let start = 0; start < texts.length; start += PROGRESS_SLICE) {
    const slice = await embedTextsCached(texts.slice(start, start + PROGRESS_SLICE), { cacheDir, ...(model ? { model } : {}) });
    vectors.push(...slice.vectors);
    modelId = slice.modelId;
    embedded += slice.embedded;
    if (texts.length > PROGRESS_SLICE) console.error(`route-eval: embedded ${vectors.length}/${texts.length} prompts (${embedded} new, ${Math.round((Date.now() - started) / 1000)} s)`);
  }
  return { vectors, modelId, embedded };
}

const PROGRESS_SLICE = 2000;

/** Rows of a float32 file, one per CSV record; the rows of rejected records are dropped. */
async function readVectors(file: string, records: number, rejected: readonly number[]): Promise<{ vectors: Float32Array[]; modelId: string; embedded: number }> {
  const bytes = await fs.readFile(file);
  const dim = bytes.byteLength / 4 / records;
  if (!Number.isInteger(dim) || dim < 1) throw new UsageError(`--vectors ${file}: ${bytes.byteLength} bytes are not ${records} float32 rows`);
  const all = new Float32Array(new Uint8Array(bytes).buffer);
  const skip = new Set(rejected.map((record) => record - 2));
  const vectors = Array.from({ length: records }, (_, i) => all.slice(i * dim, (i + 1) * dim)).filter((_, i) => !skip.has(i));
  return {
    vectors,
    modelId: `precomputed:${path.basename(file)}`,
    embedded: 0,
  };
}

/** Every (len/n)-th row: deterministic, and it keeps the file's mix of groups and splits. */
function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  if (n >= items.length) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}
