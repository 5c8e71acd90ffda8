/**
 * The dataset build as plain steps: plan (load + chunk), generate per chunk, finalize (dedup across
 * the dataset, augmentation rounds, document-level split, exports, manifest). The buildDataset
 * workflow runs the same steps as activities; buildDatasetLocally runs them in-process.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { canonicalJson, sha256Hex, type ArtifactRef, type ArtifactStore } from '../artifacts';
import { TypedError } from '../errors';
import { schemaProblems } from '../schemas';
import type { ChatClient } from '../llm/client';
import type {
  DatasetBuildConfig,
  DatasetCounts,
  DatasetExport,
  DatasetJudgeSummary,
  DatasetManifest,
  DatasetRejection,
  DatasetSample,
  DatasetSplit,
  DocumentModel,
  TaskType,
} from '../../schemas/generated/types';
import { chunkDocument, documentOutline } from './chunk';
import { derive } from './augment';
import type { Draft } from './draft';
import { buildExports } from './exports';
import { planFeedback, type FeedbackBatch } from './feedback-chunks';
import { answerDrafts, chunkWorks, draftChunk, toSample, type AcceptedDraft, type ChunkOutcomes, type ChunkWork } from './generate';
import { NearDuplicateIndex } from './minhash';
import { applyVerdicts, type ReviewVerdicts } from './review';
import { checkSample } from './quality';
import { balanceLabelSets, capDocuments, type LeftOut } from './balance';
import { assignSplits, SPLITS } from './split';
import type { Chunk, DatasetPlanContent } from './types';

/** Chunks every valid document; invalid ones are reported, never allowed to fail the batch. */
/** A parsed document as read, before validation: `input` names it in reports (artifact sha256 or file path). */
export interface DocumentInput {
  input: string;
  value: unknown;
}

/** Document chunks first, then (when given) the feedback tasks' chunks; invalid task rows are reported like invalid documents. */
export function planFromDocuments(documents: DocumentInput[], config: DatasetBuildConfig, feedback?: FeedbackBatch): DatasetPlanContent {
  const plan: DatasetPlanContent = { kind: 'llmloop.dataset-plan/v1', config, documents: [], chunks: [], skipped_documents: [] };
  const skipped = plan.skipped_documents;
  const seen = new Set<string>();
  for (const { input, value } of documents) {
    const problems = schemaProblems('DocumentModel', value);
    if (problems.length) {
      skipped.push({ input, reason: `not a DocumentModel: ${problems.slice(0, 3).join('; ')}` });
      continue;
    }
    const doc = value as DocumentModel;
    if (seen.has(doc.source.sha256)) {
      skipped.push({ input, reason: `same source document as an earlier input (${doc.source.sha256})` });
      continue;
    }
    seen.add(doc.source.sha256);
    // OCR'd text can be left out, or gated by the confidence of its blocks.
    const chunks = chunkDocument(doc, config.chunk_max_tokens).filter((c) => c.ocr_confidence === undefined || (!config.exclude_ocr && c.ocr_confidence >= (config.min_ocr_confidence ?? 0)));
    if (!chunks.length) {
      skipped.push({ input, reason: `no text to build samples from in ${doc.source.path}` });
      continue;
    }
    plan.documents.push(documentOutline(doc));
    plan.chunks.push(...chunks);
  }
  if (feedback) {
    const planned = planFeedback(feedback);
    plan.feedback = planned.feedback;
    plan.chunks.push(...planned.chunks);
    skipped.push(...planned.skipped);
  }
  return plan;
}

export function draftCountsByType(works: ChunkWork[]): Partial<Record<TaskType, number>> {
  const counts: Partial<Record<TaskType, number>> = {};
  for (const work of works) for (const d of draftChunk(work)) counts[d.task_type] = (counts[d.task_type] ?? 0) + 1;
  return counts;
}

/**
 * Near-duplicates are judged on prompt + answer within a task type: a ranking pair shares its prompt
 * with the summary of the same section by design, which is not duplication.
 */
function dedupText(sample: DatasetSample): string {
  return `${sample.prompt}\n${sample.task_type === 'ranking' ? `${sample.chosen}\n${sample.rejected}` : sample.completion}`;
}

export interface FinalizeInput {
  /** The plan, with the config that produced it. */
  plan: DatasetPlanContent;
  chunkOutcomes: ChunkOutcomes[];
  /** Drafts a reviewer rejected, with the reviewer's reason. */
  reviewRejected: { drafts: Draft[]; reason: string }[];
  /** A review's verdicts on samples (`dataset review`): the ones marked bad are excluded as review_bad. */
  verdicts?: ReviewVerdicts;
  store: ArtifactStore;
  onProgress?: (note: string) => void;
}

export interface FinalizedDataset {
  manifest: DatasetManifest;
  manifestRef: ArtifactRef;
  samples: DatasetSample[];
  files: { file: string; content: string }[];
}

export async function finalizeDataset(input: FinalizeInput): Promise<FinalizedDataset> {
  const { plan } = input;
  const { config } = plan;
  const chunkById = new Map<string, Chunk>(plan.chunks.map((c) => [c.id, c]));
  const indexes = new Map(config.task_types.map((t) => [t, new NearDuplicateIndex({ threshold: config.dedup_threshold, seed: config.seed })]));
  const rejections: DatasetRejection[] = input.chunkOutcomes.flatMap((o) => o.rejections);
  for (const { drafts, reason } of input.reviewRejected) {
    for (const d of drafts) rejections.push({ outcome: 'rejected', reason: 'review_rejected', detail: reason, task_type: d.task_type, chunk_id: d.chunk_id, generator: d.generator, round: d.round });
  }
  const accepted: AcceptedDraft[] = [];
  const admit = (candidate: AcceptedDraft): boolean => {
    const duplicateOf = indexes.get(candidate.sample.task_type)!.addIfNovel(candidate.sample.id, dedupText(candidate.sample));
    if (duplicateOf === undefined) {
      accepted.push(candidate);
      return true;
    }
    const d = candidate.draft;
    rejections.push({ outcome: 'rejected', reason: 'near_duplicate', detail: `near-duplicate of ${duplicateOf}`, task_type: d.task_type, chunk_id: d.chunk_id, generator: d.generator, round: d.round, sample: candidate.sample as unknown as Record<string, unknown> });
    return false;
  };

  const round0 = input.chunkOutcomes.flatMap((o) => o.accepted);
  const round0Generated = rejections.length + round0.length;
  const round0Admitted = round0.filter(admit);
  const rounds = [{ round: 0, generated: round0Generated, accepted: round0Admitted.length }];

  let frontier = round0Admitted.filter((a) => a.draft.engine === 'template');
  for (let round = 1; round < config.max_rounds && config.target_size !== undefined && accepted.length < config.target_size; round++) {
    const quota = Math.ceil(config.target_size / config.task_types.length);
    const countOf = (type: TaskType) => accepted.filter((a) => a.sample.task_type === type).length;
    const underFilled = new Set(config.task_types.filter((t) => countOf(t) < quota));
    const derived = frontier.filter((a) => underFilled.has(a.draft.task_type)).flatMap((a) => derive(a.draft, round));
    const admitted: AcceptedDraft[] = [];
    for (const draft of derived) {
      const chunk = chunkById.get(draft.chunk_id)!;
      const sample = toSample(draft, chunk);
      const refusal = checkSample(sample, draft.source_span, config);
      if (refusal) {
        rejections.push({ outcome: 'rejected', reason: refusal.reason, detail: refusal.detail, task_type: draft.task_type, chunk_id: draft.chunk_id, generator: draft.generator, round, sample: sample as unknown as Record<string, unknown> });
      } else if (admit({ draft, sample })) {
        admitted.push({ draft, sample });
      }
    }
    rounds.push({ round, generated: derived.length, accepted: admitted.length });
    input.onProgress?.(`augmentation round ${round}: ${admitted.length}/${derived.length} accepted`);
    if (!admitted.length) break;
    frontier = admitted;
  }

  // Verdicts apply to the balanced, split dataset a reviewer saw: excluding before the balance caps
  // would let a removal shift every document's share and admit rows no one reviewed.
  const reviewed = applyVerdicts(balanceAndSplit(accepted, config, rejections), input.verdicts);
  rejections.push(...reviewed.rejections);
  const samples = reviewed.kept;
  const counts = countOutcomes(samples.length, rejections);
  const files = buildExports(samples, rejections);
  const exports: DatasetExport[] = [];
  for (const f of files) {
    const artifact = await input.store.put(f.content, f.file.endsWith('.json') ? 'application/json' : 'application/jsonl');
    exports.push({ file: f.file, format: f.format, rows: f.rows, artifact, ...(f.split ? { split: f.split } : {}) });
  }
  const tree = await storeTree(files, input.store);
  const manifest: DatasetManifest = {
    kind: 'llmloop.dataset/v1',
    version: `ds-${sha256Hex(canonicalJson(exports.map((e) => [e.file, e.artifact.sha256]))).slice(0, 16)}`,
    created_at: new Date().toISOString(),
    config,
    counts,
    by_task_type: tally(samples, (s) => s.task_type),
    by_language: tally(samples, (s) => s.language),
    by_split: tally(samples, (s) => s.split!),
    by_source: tally(samples, (s) => s.provenance.source_sha256),
    documents: plan.documents.flatMap((d) => {
      const own = samples.filter((s) => s.provenance.source_sha256 === d.sha256);
      return own.length ? [{ sha256: d.sha256, path: d.path, split: own[0]!.split!, samples: own.length }] : [];
    }),
    skipped_documents: plan.skipped_documents,
    rounds,
    exports,
    tree,
    ...judgeSummary(config, input.chunkOutcomes),
    ...(reviewed.review ? { review: reviewed.review } : {}),
  };
  const manifestRef = await input.store.putJson(manifest, 'application/vnd.llmloop.dataset+json');
  return { manifest, manifestRef, samples, files };
}

/**
 * Balance, then split: label sets without a dominant answer, no document over its share of the
 * dataset, splits by document, then no document over its share of its split (a split holds fewer
 * documents than the dataset, so the second cap can bind where the first did not). Every sample left
 * out becomes a counted rejection.
 */
function balanceAndSplit(accepted: AcceptedDraft[], config: DatasetBuildConfig, rejections: DatasetRejection[]): DatasetSample[] {
  const leave = (leftOut: LeftOut<AcceptedDraft>[]) => {
    for (const { item, reason, detail } of leftOut) {
      const d = item.draft;
      rejections.push({ outcome: 'rejected', reason, detail, task_type: d.task_type, chunk_id: d.chunk_id, generator: d.generator, round: d.round, sample: item.sample as unknown as Record<string, unknown> });
    }
  };
  const sampleOf = (a: AcceptedDraft) => a.sample;
  const share = config.max_document_share ?? 1;
  const labelled = balanceLabelSets(accepted, sampleOf, config.seed);
  leave(labelled.leftOut);
  // Production prompts have no source document to over-represent: they are never capped.
  const fromFeedback = labelled.kept.filter((a) => a.sample.provenance.feedback);
  // Capped against the largest split's part of the dataset, so that splits are assigned on sizes the
  // per-split cap will mostly keep, and the held-out splits still get their share of the rows.
  const ratios = config.split_ratios;
  const largestSplit = Math.max(...SPLITS.map((name) => ratios[name])) / SPLITS.reduce((sum, name) => sum + ratios[name], 0);
  const capped = capDocuments(labelled.kept.filter((a) => !a.sample.provenance.feedback), sampleOf, share * largestSplit, config.seed, 'dataset');
  leave(capped.leftOut);
  const splitOf = documentSplits(capped.kept.map(sampleOf), config);
  const keptIds = new Set(fromFeedback.map((a) => a.sample.id));
  for (const name of SPLITS) {
    const perSplit = capDocuments(capped.kept.filter((a) => splitOf.get(a.sample.provenance.source_sha256) === name), sampleOf, share, config.seed, name);
    leave(perSplit.leftOut);
    for (const a of perSplit.kept) keptIds.add(a.sample.id);
  }
  return labelled.kept
    .filter((a) => keptIds.has(a.sample.id))
    .map((a) => ({ ...a.sample, split: a.sample.provenance.feedback ? 'train' : splitOf.get(a.sample.provenance.source_sha256)! }));
}

/**
 * Document samples are split by document; feedback samples always train: a production prompt in an
 * evaluation split would score the fleet on the very traffic it was then retrained to answer, and
 * the evaluation stage's per-cluster index would no longer measure generalisation.
 */
function documentSplits(samples: DatasetSample[], config: DatasetBuildConfig): Map<string, DatasetSplit> {
  const perDocument = new Map<string, Partial<Record<TaskType, number>>>();
  for (const s of samples) {
    const counts = perDocument.get(s.provenance.source_sha256) ?? {};
    counts[s.task_type] = (counts[s.task_type] ?? 0) + 1;
    perDocument.set(s.provenance.source_sha256, counts);
  }
  return assignSplits([...perDocument].map(([sha256, byType]) => ({ sha256, byType })), config.split_ratios, config.seed, config.max_document_share);
}

/** The judge pass in numbers, from the chunks' outcomes (where the judge ran): teacher samples it scored, passed, and turned down by weakest criterion. */
function judgeSummary(config: DatasetBuildConfig, chunkOutcomes: ChunkOutcomes[]): { judge?: DatasetJudgeSummary } {
  if (config.judge_threshold === undefined || !config.teacher) return {};
  const rejections = chunkOutcomes.flatMap((o) => o.rejections);
  const rejected_by_reason = tally(rejections.filter((r) => r.reason.startsWith('judge_')), (r) => r.reason);
  const turnedDown = Object.values(rejected_by_reason).reduce((a, b) => a + b, 0);
  // A sample the judge passed may still have been refused by another gate: it was judged, and passed.
  const isJudged = (sample: Partial<DatasetSample> | undefined) => sample?.provenance?.judge_score != null;
  const passedThenRefused = rejections.filter((r) => !r.reason.startsWith('judge_') && isJudged(r.sample as Partial<DatasetSample> | undefined)).length;
  const accepted = chunkOutcomes.flatMap((o) => o.accepted).filter((a) => isJudged(a.sample)).length + passedThenRefused;
  const judged = accepted + turnedDown;
  return { judge: { threshold: config.judge_threshold, judged, accepted, acceptance_rate: judged ? accepted / judged : null, rejected_by_reason } };
}

export function countOutcomes(accepted: number, rejections: DatasetRejection[]): DatasetCounts {
  const rejected_by_reason = tally(rejections.filter((r) => r.outcome === 'rejected'), (r) => r.reason);
  const failed_by_error = tally(rejections.filter((r) => r.outcome === 'failed'), (r) => r.reason);
  return { generated: accepted + rejections.length, accepted, rejected_by_reason, failed_by_error };
}

function tally<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function storeTree(files: { file: string; content: string }[], store: ArtifactStore): Promise<ArtifactRef> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'llmloop-dataset-'));
  try {
    await writeFiles(files, dir);
    return await store.putTree(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function writeFiles(files: { file: string; content: string }[], dir: string): Promise<void> {
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(dir, f.file)), { recursive: true });
    await fs.writeFile(path.join(dir, f.file), f.content);
  }
}

export interface LocalBuildOptions {
  config: DatasetBuildConfig;
  store: ArtifactStore;
  teacher?: ChatClient;
  /** Scores teacher samples when the config names a judge endpoint; the teacher judges otherwise. */
  judge?: ChatClient;
  /** Production prompts to answer alongside the documents (feedback loop). */
  feedback?: FeedbackBatch;
  /** A review's verdicts: samples marked bad are excluded (review_bad). */
  verdicts?: ReviewVerdicts;
  onProgress?: (note: string) => void;
}

/** The whole build in one process, without Temporal: the CLI's quick path and later stages' test fixture. */
export async function buildDatasetLocally(documents: DocumentInput[], options: LocalBuildOptions): Promise<FinalizedDataset> {
  const { config } = options;
  if (config.teacher && !options.teacher) throw new TypedError('InvalidRequest', 'config names a teacher but no chat client was given');
  const plan = planFromDocuments(documents, config, options.feedback);
  if (!plan.chunks.length) throw new TypedError('EmptyDataset', `none of the ${documents.length} documents has text to build samples from`, { skipped: plan.skipped_documents });
  const chunkOutcomes: ChunkOutcomes[] = [];
  const works = chunkWorks(plan);
  const started = Date.now();
  for (let i = 0; i < plan.chunks.length; i++) {
    chunkOutcomes.push(await answerDrafts(plan.chunks[i]!, draftChunk(works[i]!), config, { ...(options.teacher ? { teacher: options.teacher } : {}), ...(options.judge ? { judge: options.judge } : {}) }));
    const etaSeconds = Math.round((((Date.now() - started) / (i + 1)) * (plan.chunks.length - i - 1)) / 1000);
    options.onProgress?.(`chunk ${i + 1}/${plan.chunks.length}, ETA ~${etaSeconds}s`);
  }
  return finalizeDataset({ plan, chunkOutcomes, reviewRejected: [], store: options.store, ...(options.verdicts ? { verdicts: options.verdicts } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
}
