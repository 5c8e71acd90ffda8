/**
 * Turns a finished lifecycle into the figures of efficacy.json: each candidate's per-sample test
 * records (evaluate_model's samples artifact, reachable from the perf index), aligned by task id so
 * every comparison is on identical samples; the paired gains and intervals from the evaluation
 * stage's own bootstrap (trainers/efficacy.py); the replay through the routing table.
 */
import path from 'node:path';
import type { ArtifactStore } from '../artifacts';
import { getCatalogModel, loadCatalog } from '../catalog';
import { lastUserText } from '../chat-messages';
import { tasksFromDataset } from '../cluster';
import { TypedError } from '../errors';
import { pythonJson } from '../python-json';
import { excludedModels } from '../routing/champion-gate';
import { embedTextsCached } from '../routing/embeddings';
import type { DatasetManifest, EfficacyCandidate, EfficacyEstimate, EfficacyGain, EfficacyReport, PerfIndex, PerfModel, RoutingTable } from '../../schemas/generated/types';
import { replayRouting, type OutcomeMatrix, type SampleOutcome } from './replay';

/** One line of evaluate_model's samples JSONL: the fields the efficacy figures read. */
interface SampleRecord {
  task_id: string;
  split: string;
  task_type: string;
  quality: number;
  prompt_tokens: number;
  completion_tokens: number;
}

interface TestSample {
  taskId: string;
  taskType: string;
}

export interface MeasureInput {
  store: ArtifactStore;
  dataset: DatasetManifest;
  perfIndex: PerfIndex;
  table: RoutingTable;
  /** Where prompt embeddings are cached (the data dir's cache/embeddings, as route-eval's). */
  embeddingCacheDir: string;
  bootstrapResamples: number;
  seed: number;
}

/** efficacy.json's figures: everything but the command's own wall time and run facts. */
export type EfficacyFigures = Omit<EfficacyReport, 'wall_seconds' | 'run'>;

export interface MeasuredEfficacy {
  figures: EfficacyFigures;
  /** The task ids of the test samples, in the order every per-sample list uses. */
  testTaskIds: string[];
  /** The table's choice for each test sample. */
  choices: string[];
}

/** Test-split records of every candidate that has them, by candidate name then task id. */
async function testRecords(store: ArtifactStore, models: readonly PerfModel[]): Promise<Map<string, Map<string, SampleRecord>>> {
  const byModel = new Map<string, Map<string, SampleRecord>>();
  for (const model of models) {
    if (!model.samples) continue; // failed evaluations have no records, and no measured cell to route to
    const text = (await store.get(model.samples)).toString('utf8');
    const rows = text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as SampleRecord);
    byModel.set(model.model_id, new Map(rows.filter((r) => r.split === 'test').map((r) => [r.task_id, r])));
  }
  return byModel;
}

/** The samples every candidate answered, sorted by task id: pairs are only ever formed on these. */
function sharedTestSamples(records: Map<string, Map<string, SampleRecord>>): TestSample[] {
  const [first, ...rest] = [...records.values()];
  if (!first) return [];
  return [...first.values()]
    .filter((r) => rest.every((other) => other.has(r.task_id)))
    .map((r) => ({ taskId: r.task_id, taskType: r.task_type }))
    .sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}

function outcome(record: SampleRecord, pricePer1k: number): SampleOutcome {
  return { quality: record.quality, cost: ((record.prompt_tokens + record.completion_tokens) / 1000) * pricePer1k };
}

/** The statistics trainers/efficacy.py returns. */
interface PythonStats {
  candidates: Record<string, { quality: EfficacyEstimate; by_task_type: EfficacyCandidate['by_task_type'] }>;
  gains: { base_model: string; tuned: string; delta: EfficacyEstimate }[];
}

/**
 * The candidate always-smallest / always-largest send everything to: among the models of the
 * extreme size (the catalog's parameter count), the admitted adapter when there is one, else the base model.
 */
export function extremeModel(models: readonly PerfModel[], routable: ReadonlySet<string>, pick: (a: number, b: number) => number): PerfModel {
  const catalog = loadCatalog();
  const sizes = models.map((m) => getCatalogModel(catalog, m.base_model).params_b);
  const target = sizes.reduce((a, b) => pick(a, b)); // not reduce(Math.max): reduce also passes the index and the array
  const ofSize = models.filter((_, i) => sizes[i] === target);
  return ofSize.find((m) => m.adapter && routable.has(m.model_id)) ?? ofSize.find((m) => !m.adapter) ?? ofSize[0]!;
}

export async function measureEfficacy(input: MeasureInput): Promise<MeasuredEfficacy> {
  const { store, perfIndex, table } = input;
  const records = await testRecords(store, perfIndex.models);
  const models = perfIndex.models.filter((m) => records.has(m.model_id));
  if (models.length === 0) throw new TypedError('EmptyDataset', `perf index ${perfIndex.version} has no per-sample records: it was built before the index kept them; remove the stage cache ($LLMLOOP_DATA_DIR/stage-cache) so the evaluation runs again`);
  const samples = sharedTestSamples(records);
  if (samples.length === 0) throw new TypedError('EmptyDataset', `no test sample was answered by every candidate of perf index ${perfIndex.version}`);
  const outcomes: OutcomeMatrix = new Map(models.map((m) => [m.model_id, samples.map((s) => outcome(records.get(m.model_id)!.get(s.taskId)!, m.cost_per_1k_tokens))]));

  const { tasks } = await tasksFromDataset(input.dataset, async (exported) => (await store.get(exported.artifact)).toString('utf8'));
  const messagesById = new Map(tasks.map((t) => [t.id, t.messages]));
  const texts = samples.map((s) => {
    const messages = messagesById.get(s.taskId);
    if (!messages) throw new TypedError('InvalidRequest', `test sample ${s.taskId} is not a task of dataset ${input.dataset.version}`);
    return lastUserText(messages);
  });
  const embedded = await embedTextsCached(texts, { cacheDir: input.embeddingCacheDir });
  if (embedded.modelId !== table.embedding_model) {
    throw new TypedError('InvalidRequest', `prompts embed with ${embedded.modelId} but routing table ${table.version} was built with ${table.embedding_model}`);
  }

  const excluded = new Set(excludedModels(perfIndex).map((e) => e.model_id));
  const routable = new Set(models.filter((m) => !excluded.has(m.model_id)).map((m) => m.model_id));
  const tunedAdmitted = models.filter((m) => m.adapter && routable.has(m.model_id));
  const largest = extremeModel(tunedAdmitted.length ? tunedAdmitted : models.filter((m) => !m.adapter), routable, Math.max);
  const smallest = extremeModel(models.filter((m) => routable.has(m.model_id)), routable, Math.min);
  const { routing, choices } = replayRouting({ table, vectors: embedded.vectors, outcomes, routable: [...routable], smallest: smallest.model_id, largest: largest.model_id });

  const pairs = models.flatMap((tuned) => {
    const base = tuned.adapter ? models.find((m) => !m.adapter && m.base_model === tuned.base_model) : undefined;
    return base ? [{ base_model: tuned.base_model, base: base.model_id, tuned: tuned.model_id }] : [];
  });
  const stats = await pythonJson<PythonStats>('trainers.efficacy', {
    task_ids: samples.map((s) => s.taskId),
    task_types: samples.map((s) => s.taskType),
    resamples: input.bootstrapResamples,
    seed: input.seed,
    quality: Object.fromEntries(models.map((m) => [m.model_id, outcomes.get(m.model_id)!.map((o) => o.quality)])),
    pairs,
  });
  const candidates: EfficacyCandidate[] = models.map((m) => ({
    name: m.model_id,
    base_model: m.base_model,
    adapter: Boolean(m.adapter),
    cost_per_1k_tokens: m.cost_per_1k_tokens,
    quality: stats.candidates[m.model_id]!.quality,
    by_task_type: stats.candidates[m.model_id]!.by_task_type,
    cost: outcomes.get(m.model_id)!.reduce((sum, o) => sum + o.cost, 0),
    ...(m.adapter ? { champion_gate: routable.has(m.model_id) ? ('passed' as const) : ('failed' as const) } : {}),
  }));
  const gains: EfficacyGain[] = stats.gains.map(({ base_model, tuned, delta }) => ({ base_model, tuned, delta }));
  return {
    figures: {
      n_test: samples.length,
      test_documents: input.dataset.documents.filter((d) => d.split === 'test').map((d) => d.path),
      candidates,
      gains,
      routing,
    },
    testTaskIds: samples.map((s) => s.taskId),
    choices,
  };
}

/** Where efficacy caches prompt embeddings: beside route-eval's, in the data dir. */
export function embeddingCacheDir(dataDir: string): string {
  return path.join(dataDir, 'cache', 'embeddings');
}
