import fs from 'node:fs/promises';
import path from 'node:path';
import { championGateVerdicts } from '../routing/champion-gate';
import type { ArtifactRef, ClusteringSummary, EvalCandidate, EvaluateModelResult, PerfCell, PerfCluster, PerfIndex, PerfModel } from '../../schemas/generated/types';

export interface PerfIndexParts {
  version: string;
  createdAt: string;
  evalRun: string;
  dataset: ArtifactRef;
  embeddingModel: string;
  clusters: PerfCluster[];
  clustering: ClusteringSummary;
  evaluations: EvaluateModelResult[];
  /** Candidates whose evaluation failed, with the cost the catalog gives them (0 when unknown). */
  failures: { candidate: EvalCandidate; reason: string; costPer1kTokens: number }[];
}

/** Index id of a candidate: evaluateFleet names every candidate before evaluating it. */
const indexName = (candidate: EvalCandidate): string => candidate.name ?? candidate.model_id;

/**
 * One cell per (cluster, model): measured cells from each evaluation, and for a failed model a
 * missing cell per cluster carrying the failure, so the router sees an explicit gap, not a zero.
 */
export function assemblePerfIndex(parts: PerfIndexParts): PerfIndex {
  const evaluated: PerfModel[] = [
    // The per-sample records stay reachable from the index, so models can be compared sample by sample.
    ...parts.evaluations.map((e) => ({ ...e.model, samples: e.samples })),
    ...parts.failures.map(({ candidate, costPer1kTokens }) => ({
      model_id: indexName(candidate),
      base_model: candidate.model_id,
      ...(candidate.adapter ? { adapter: candidate.adapter } : {}),
      cost_per_1k_tokens: candidate.cost_per_1k_tokens ?? costPer1kTokens,
    })),
  ];
  // Recorded for people reading the index; the router applies the same gate from the same numbers.
  const verdicts = championGateVerdicts(evaluated);
  const models = evaluated.map((m) => (verdicts.has(m.model_id) ? { ...m, champion_gate: verdicts.get(m.model_id)! } : m));
  const measured = new Map<string, PerfCell>();
  for (const evaluation of parts.evaluations) for (const cell of evaluation.cells) measured.set(`${cell.cluster_id}\u0000${cell.model_id}`, cell);
  const failureOf = new Map(parts.failures.map((f) => [indexName(f.candidate), f.reason]));
  const cells: PerfCell[] = [];
  for (const cluster of parts.clusters) {
    for (const model of models) {
      const cell = measured.get(`${cluster.id}\u0000${model.model_id}`);
      const reason = failureOf.get(model.model_id) ?? 'the evaluation returned no cell for this cluster';
      cells.push(cell ?? missingCell(cluster.id, model.model_id, reason));
    }
  }
  return {
    version: parts.version,
    created_at: parts.createdAt,
    embedding_model: parts.embeddingModel,
    clustering: parts.clustering,
    clusters: parts.clusters,
    models,
    cells,
    eval_run: parts.evalRun,
    dataset: parts.dataset,
  };
}

function missingCell(clusterId: number, modelId: string, reason: string): PerfCell {
  return { cluster_id: clusterId, model_id: modelId, n: 0, quality: 0, metrics: {}, latency_ms_mean: 0, latency_ms_p95: 0, cost_per_request: 0, missing: { reason } };
}

/** Versions sort by time: pi-<UTC timestamp>-<content hash prefix>. */
export function perfIndexVersion(createdAt: Date, contentSha256: string): string {
  return `pi-${createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${contentSha256.slice(0, 8)}`;
}

const fixed = (x: number, digits = 3) => x.toFixed(digits);
/** Failure messages can be long (an UnknownModel lists the whole catalog); `--json` shows them whole. */
const MISSING_REASON_WIDTH = 60;
const truncate = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** The index as a text table: one row per cluster, one column per model (quality [CI] latency cost). */
export function perfIndexTable(index: PerfIndex): string {
  const header = ['cluster', 'size', ...index.models.map((m) => m.model_id)];
  const rows = index.clusters.map((cluster) => [
    `${cluster.id} ${cluster.label}`,
    String(cluster.size),
    ...index.models.map((model) => {
      const cell = index.cells.find((c) => c.cluster_id === cluster.id && c.model_id === model.model_id);
      if (!cell) return 'absent';
      if (cell.missing) return `missing: ${truncate(cell.missing.reason, MISSING_REASON_WIDTH)}`;
      const ci = cell.quality_ci ? ` [${fixed(cell.quality_ci.ci_low, 2)},${fixed(cell.quality_ci.ci_high, 2)}]` : '';
      return `q=${fixed(cell.quality)}${ci} n=${cell.n} ${Math.round(cell.latency_ms_mean)}ms $${cell.cost_per_request.toExponential(2)}`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const title = `perf index ${index.version} (${index.created_at}, run ${index.eval_run}, embeddings ${index.embedding_model})`;
  const gates = index.models.flatMap((m) => (m.champion_gate ? [`champion gate ${m.champion_gate.passed ? 'passed' : 'FAILED (never routed)'}: ${m.model_id}: ${m.champion_gate.reason}`] : []));
  return [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...gates].join('\n');
}

export interface PerfIndexEntry {
  version: string;
  created_at: string;
  perf_index: ArtifactRef;
}

/** Append-only list of published indexes (<data dir>/perf-index/registry.jsonl), for `index show --latest`. */
export class PerfIndexRegistry {
  constructor(readonly file: string) {}

  static inDataDir(dataDir: string): PerfIndexRegistry {
    return new PerfIndexRegistry(path.join(dataDir, 'perf-index', 'registry.jsonl'));
  }

  async record(entry: PerfIndexEntry): Promise<void> {
    if ((await this.list()).some((e) => e.version === entry.version)) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await fs.appendFile(this.file, `${JSON.stringify(entry)}\n`);
  }

  async list(): Promise<PerfIndexEntry[]> {
    const text = await fs.readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '' : Promise.reject(err)));
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as PerfIndexEntry);
  }

  async latest(): Promise<PerfIndexEntry | undefined> {
    const all = await this.list();
    return all[all.length - 1];
  }

  /** By version, or by artifact sha256 (or a unique prefix of it). */
  async find(reference: string): Promise<PerfIndexEntry | undefined> {
    const all = await this.list();
    return all.find((e) => e.version === reference) ?? all.find((e) => e.perf_index.sha256.startsWith(reference));
  }
}
