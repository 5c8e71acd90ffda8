/**
 * Dataset activities (llmloop-cpu): plan, draft (review gate), generate per chunk, finalize.
 * Big payloads live in the artifact store; each chunk's result is also indexed by a hash of its
 * drafts and config, so a rerun over the same inputs reuses it instead of paying for it again.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import fs from 'node:fs/promises';
import path from 'node:path';
import { artifactStoreFromEnv, canonicalJson, sha256Hex, type ArtifactRef, type ArtifactStore } from '../core/artifacts';
import { loadConfig } from '../core/config';
import { TypedError } from '../core/errors';
import { validate } from '../core/schemas';
import { draftCountsByType, finalizeDataset, planFromDocuments, type DocumentInput } from '../core/dataset/build';
import type { DatasetPlanContent } from '../core/dataset/types';
import { resolveBuildConfig } from '../core/dataset/config';
import type { Draft } from '../core/dataset/draft';
import { parseFeedbackJsonl } from '../core/dataset/feedback-chunks';
import { answerDrafts, chunkWorks, draftChunk, type ChunkOutcomes, type ChunkWork } from '../core/dataset/generate';
import { parseVerdicts, type ReviewVerdicts } from '../core/dataset/review';
import { teacherFromConfig } from '../core/dataset/teacher-client';
import { TEMPLATE_VERSION } from '../core/dataset/templates';
import { TEACHER_PROMPT_VERSION } from '../core/dataset/teacher';
import type { DatasetBuildConfig, DatasetChunkResult, DatasetChunkTask, DatasetDrafts, DatasetFinalized, DatasetFinalizeTask, DatasetPlan, DatasetPlanTask, StoreChunkResultsTask } from '../schemas/generated/types';
import { typedActivity } from './failures';
import { samplesProduced, samplesRejected } from '../workers/metrics';
import { writeFileAtomically } from '../core/atomic-file';

const PLAN_MEDIA_TYPE = 'application/vnd.llmloop.dataset-plan+json';
const WORK_MEDIA_TYPE = 'application/vnd.llmloop.dataset-chunk-work+json';
const DRAFTS_MEDIA_TYPE = 'application/vnd.llmloop.dataset-drafts+json';
const CHUNK_MEDIA_TYPE = 'application/vnd.llmloop.dataset-chunk+json';
const CHUNK_BATCH_MEDIA_TYPE = 'application/vnd.llmloop.dataset-chunk-batch+json';
const CHUNK_RESULTS_MEDIA_TYPE = 'application/vnd.llmloop.dataset-chunk-results+json';

function heartbeat(details: unknown): void {
  Context.current().heartbeat(details);
}

export async function planDataset(task: DatasetPlanTask): Promise<DatasetPlan> {
  return typedActivity(async () => {
    validate('DatasetPlanTask', task);
    const store = artifactStoreFromEnv();
    const config = resolveBuildConfig(task.config as Partial<DatasetBuildConfig>);
    const documents: DocumentInput[] = [];
    for (const ref of task.documents) {
      documents.push({ input: ref.sha256, value: await store.getJson<unknown>(ref) });
      heartbeat({ loaded: documents.length });
    }
    const feedback = task.feedback_tasks ? { tasks_sha256: task.feedback_tasks.sha256, rows: parseFeedbackJsonl((await store.get(task.feedback_tasks)).toString('utf8')) } : undefined;
    // A malformed verdicts file fails the build here, before any teacher call, not at finalize.
    if (task.verdicts) await readVerdicts(task.verdicts, store);
    const plan = planFromDocuments(documents, config, feedback);
    if (!plan.chunks.length) throw new TypedError('EmptyDataset', `none of the ${documents.length} documents has text to build samples from`, { skipped: plan.skipped_documents });
    const works = chunkWorks(plan);
    const chunk_work: ArtifactRef[] = [];
    for (const work of works) {
      chunk_work.push(await store.putJson(work, WORK_MEDIA_TYPE));
      heartbeat({ stored_chunks: chunk_work.length });
    }
    const chunkRefs = task.batch_size ? { chunk_batches: await storeChunkBatches(chunk_work, task.batch_size, store) } : { chunk_work };
    return validate('DatasetPlan', {
      plan: await store.putJson(plan, PLAN_MEDIA_TYPE),
      chunks: plan.chunks.length,
      ...chunkRefs,
      drafts_by_type: draftCountsByType(works),
      skipped_documents: plan.skipped_documents,
    });
  });
}

/** Per `batchSize` chunks, one stored list of their DatasetChunkTask: what a generateDatasetChunks child reads. */
async function storeChunkBatches(chunkWork: ArtifactRef[], batchSize: number, store: ArtifactStore): Promise<ArtifactRef[]> {
  const batches: ArtifactRef[] = [];
  for (let start = 0; start < chunkWork.length; start += batchSize) {
    const tasks: DatasetChunkTask[] = chunkWork.slice(start, start + batchSize).map((work) => ({ work }));
    batches.push(await store.putJson(tasks, CHUNK_BATCH_MEDIA_TYPE));
  }
  return batches;
}

/** The chunk tasks of one batch (DatasetPlan.chunk_batches), for the generateDatasetChunks child that runs them. */
export async function loadChunkBatch(batch: ArtifactRef): Promise<DatasetChunkTask[]> {
  return typedActivity(async () => {
    const tasks = await artifactStoreFromEnv().getJson<DatasetChunkTask[]>(validate('ArtifactRef', batch));
    return tasks.map((task) => validate('DatasetChunkTask', task));
  });
}

/** Stores a batch's chunk result refs as one list, so the parent history and finalize's input carry one ref per batch, not per chunk. */
export async function storeChunkResults(task: StoreChunkResultsTask): Promise<ArtifactRef> {
  return typedActivity(async () => artifactStoreFromEnv().putJson(validate('StoreChunkResultsTask', task).results, CHUNK_RESULTS_MEDIA_TYPE));
}

export async function draftDatasetChunk(task: DatasetChunkTask): Promise<DatasetDrafts> {
  return typedActivity(async () => {
    const store = artifactStoreFromEnv();
    const work = await store.getJson<ChunkWork>(validate('DatasetChunkTask', task).work);
    const drafts = draftChunk(work);
    return { chunk_index: work.chunk_index, drafts: await store.putJson(drafts, DRAFTS_MEDIA_TYPE), drafted_by_type: countByType(drafts) };
  });
}

export async function generateDatasetChunk(task: DatasetChunkTask): Promise<DatasetChunkResult> {
  return typedActivity(async () => generateChunk(validate('DatasetChunkTask', task), artifactStoreFromEnv()));
}

/** A few of a generateDatasetChunks batch's chunk tasks, and their results in the same order. */
export interface DatasetChunkGroupTask {
  tasks: DatasetChunkTask[];
}
export interface DatasetChunkGroupResult {
  results: DatasetChunkResult[];
}

/**
 * Several chunks, one after another, in one activity: a template-only chunk takes milliseconds, less
 * than Temporal's bookkeeping of an activity, so buildDataset's children run their chunks in groups.
 * Each chunk's result is in the chunk cache as soon as it is done, so a retried group redoes only the rest.
 */
export async function generateDatasetChunkGroup(group: DatasetChunkGroupTask): Promise<DatasetChunkGroupResult> {
  return typedActivity(async () => {
    const tasks = group.tasks.map((task) => validate('DatasetChunkTask', task));
    const store = artifactStoreFromEnv();
    const results: DatasetChunkResult[] = [];
    const cancelled = Context.current().cancellationSignal;
    for (const task of tasks) {
      // Between chunks a cancellation (or the worker shutting down) ends the attempt; the retry gets the
      // finished chunks back from the chunk cache instead of paying the teacher again.
      if (cancelled.aborted) throw new CancelledFailure(`chunk group cancelled after ${results.length} of ${tasks.length} chunks`);
      results.push(await generateChunk(task, store));
      heartbeat({ chunks_done: results.length, of: tasks.length });
    }
    return { results };
  });
}

async function generateChunk(task: DatasetChunkTask, store: ArtifactStore): Promise<DatasetChunkResult> {
  const work = await store.getJson<ChunkWork>(task.work);
  const drafts = task.drafts ? await store.getJson<Draft[]>(task.drafts) : draftChunk(work);
  const drafted_by_type = countByType(drafts);
  const key = sha256Hex(canonicalJson({ drafts, config: work.config, versions: { template: TEMPLATE_VERSION, teacher: TEACHER_PROMPT_VERSION } }));
  const reusable = await lookupChunkResult(key, store);
  if (reusable) return { chunk_index: work.chunk_index, result: reusable, drafted_by_type, reused: true };

  const clients = {
    ...(work.config.teacher ? { teacher: teacherFromConfig(work.config.teacher) } : {}),
    ...(work.config.judge ? { judge: teacherFromConfig(work.config.judge) } : {}),
  };
  let answered = 0;
  const outcomes: ChunkOutcomes = await answerDrafts(work.chunk, drafts, work.config, clients, () => heartbeat({ chunk: work.chunk_index, answered: ++answered, of: drafts.length }));
  const result = await store.putJson(outcomes, CHUNK_MEDIA_TYPE);
  await recordChunkResult(key, result);
  return { chunk_index: work.chunk_index, result, drafted_by_type, reused: false };
}

export async function finalizeDatasetBuild(task: DatasetFinalizeTask): Promise<DatasetFinalized> {
  return typedActivity(async () => {
    validate('DatasetFinalizeTask', task);
    const store = artifactStoreFromEnv();
    const plan = await store.getJson<DatasetPlanContent>(task.plan);
    const chunkResults = [...task.chunk_results];
    for (const list of task.chunk_result_lists ?? []) chunkResults.push(...(await store.getJson<ArtifactRef[]>(list)));
    const chunkOutcomes: ChunkOutcomes[] = [];
    for (const ref of chunkResults) {
      chunkOutcomes.push(await store.getJson<ChunkOutcomes>(ref));
      heartbeat({ loaded: chunkOutcomes.length });
    }
    const reviewRejected = [];
    for (const r of task.rejected_drafts) reviewRejected.push({ drafts: await store.getJson<Draft[]>(r.drafts), reason: r.reason });
    const verdicts = task.verdicts ? await readVerdicts(task.verdicts, store) : undefined;
    const { manifest, manifestRef } = await finalizeDataset({ plan, chunkOutcomes, reviewRejected, ...(verdicts ? { verdicts } : {}), store, onProgress: heartbeat });
    samplesProduced.inc(manifest.counts.accepted);
    for (const [reason, n] of Object.entries(manifest.counts.rejected_by_reason)) samplesRejected.inc({ reason }, n);
    return { dataset: manifestRef, version: manifest.version, counts: manifest.counts };
  });
}

async function readVerdicts(ref: ArtifactRef, store: ArtifactStore): Promise<ReviewVerdicts> {
  return parseVerdicts((await store.get(ref)).toString('utf8'), `verdicts ${ref.sha256}`);
}

function countByType(drafts: Draft[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of drafts) counts[d.task_type] = (counts[d.task_type] ?? 0) + 1;
  return counts;
}

function chunkIndexPath(key: string): string {
  return path.join(loadConfig().dataDir, 'dataset-chunks', key.slice(0, 2), `${key}.json`);
}

async function lookupChunkResult(key: string, store: ArtifactStore): Promise<ArtifactRef | undefined> {
  try {
    const ref = JSON.parse(await fs.readFile(chunkIndexPath(key), 'utf8')) as ArtifactRef;
    return (await store.has(ref)) ? ref : undefined;
  } catch {
    return undefined;
  }
}

async function recordChunkResult(key: string, ref: ArtifactRef): Promise<void> {
  await writeFileAtomically(chunkIndexPath(key), JSON.stringify(ref));
}
