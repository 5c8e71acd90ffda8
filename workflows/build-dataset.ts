import { condition, defineQuery, defineUpdate, executeChild, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import type {
  ArtifactRef,
  BuildDatasetInput,
  BuildDatasetResult,
  DatasetChunkBatch,
  DatasetChunkBatchResult,
  DatasetChunkResult,
  DatasetDrafts,
  DatasetProgress,
  ReviewDecision,
} from '../schemas/generated/types';
import { checked } from './validation';

const { planDataset, finalizeDatasetBuild, loadChunkBatch, storeChunkResults } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

// A chunk's teacher calls can take minutes on a slow endpoint; the heartbeat after every answer tells a live one from a dead one.
const { draftDatasetChunk, generateDatasetChunk } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

/**
 * Chunks per generateDatasetChunks child: 20 groups of CHUNKS_PER_ACTIVITY, about 100 events; the
 * parent adds about 9 per child (docs/lifecycle.md, History growth).
 */
const DEFAULT_CHUNK_BATCH_SIZE = 500;
/**
 * Batches generating at once: each puts all its groups in flight (20 activities), so this caps the
 * activities queued at once while keeping a few workers' slots busy.
 */
const CHUNK_BATCHES_IN_FLIGHT = 4;
// Runs that started when every chunk was an activity of this workflow replay without the children.
const CHUNK_BATCHES_PATCH = 'dataset-chunk-batches';

/**
 * Chunks per generateDatasetChunkGroup activity in a generateDatasetChunks child: a template-only chunk
 * takes about 10 ms, less than an activity's round trip through the server, and teacher chunks are
 * seconds each, so a group of 25 runs a few minutes at most while the per-chunk heartbeat tells slow from dead.
 */
const CHUNKS_PER_ACTIVITY = 25;

// A group runs its chunks one after another: up to 25 slow teacher chunks.
const { generateDatasetChunkGroup } = proxyActivities<typeof activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

export const datasetProgressQuery = defineQuery<DatasetProgress>('datasetProgress');
export const reviewDatasetBatchUpdate = defineUpdate<DatasetProgress, [ReviewDecision]>('reviewDatasetBatch');

/**
 * Parsed documents (and production prompts from the feedback loop) -> instruction dataset: plan chunks, fan out one generation activity per chunk,
 * batched into generateDatasetChunks children of `chunk_batch_size` chunks so no history grows with the corpus
 * (optionally, in this history: draft prompts, wait for a reviewer's verdict per batch, then answer the approved ones),
 * finalize (dedup, augmentation, split, the samples a review's `verdicts` mark bad left out, exports). Finished chunks are in history and in the chunk
 * cache, so a restarted worker or a rerun never regenerates them.
 */
export async function buildDataset(input: BuildDatasetInput): Promise<BuildDatasetResult> {
  const request = checked('BuildDatasetInput', input);
  const progress: DatasetProgress = { phase: 'planning', chunks_done: 0, chunks_total: 0, by_task_type: {}, eta_seconds: null, pending_review: [] };
  let generationStartedAt = 0;
  setHandler(datasetProgressQuery, () => progress);

  const decisions = new Map<number, ReviewDecision>();
  setHandler(
    reviewDatasetBatchUpdate,
    (decision) => {
      decisions.set(decision.batch, decision);
      progress.pending_review = progress.pending_review.filter((b) => b !== decision.batch);
      return progress;
    },
    {
      validator: (decision) => {
        checked('ReviewDecision', decision);
        if (progress.phase !== 'awaiting_review') throw new Error(`no batch is awaiting review (phase: ${progress.phase})`);
        if (!progress.pending_review.includes(decision.batch)) throw new Error(`batch ${decision.batch} is not pending review (pending: ${progress.pending_review.join(', ') || 'none'})`);
      },
    },
  );

  const verdicts = request.verdicts ? { verdicts: request.verdicts } : {};
  // The review path drafts every chunk here and waits for verdicts per review batch, so it keeps one activity per chunk.
  const batchSize = !request.review && patched(CHUNK_BATCHES_PATCH) ? (request.chunk_batch_size ?? DEFAULT_CHUNK_BATCH_SIZE) : undefined;
  const plan = await planDataset({
    documents: request.documents,
    config: request.config ?? {},
    ...(request.feedback_tasks ? { feedback_tasks: request.feedback_tasks } : {}),
    ...verdicts,
    ...(batchSize ? { batch_size: batchSize } : {}),
  });
  progress.chunks_total = plan.chunks;
  progress.by_task_type = Object.fromEntries(Object.entries(plan.drafts_by_type).map(([type, total]) => [type, { done: 0, total }]));
  const chunkIndexes = Array.from({ length: plan.chunks }, (_, i) => i);

  const onChunksDone = (chunks: number, draftedByType: Record<string, number>) => {
    progress.chunks_done += chunks;
    for (const [type, n] of Object.entries(draftedByType)) progress.by_task_type[type]!.done += n;
    const elapsed = (Date.now() - generationStartedAt) / 1000;
    progress.eta_seconds = Math.round((elapsed / progress.chunks_done) * (progress.chunks_total - progress.chunks_done));
  };
  const onChunkDone = (result: DatasetChunkResult) => {
    onChunksDone(1, result.drafted_by_type);
    return result;
  };
  const generate = (chunk_index: number, drafts?: ArtifactRef) => generateDatasetChunk({ work: plan.chunk_work![chunk_index]!, ...(drafts ? { drafts } : {}) }).then(onChunkDone);

  /** One generateDatasetChunks child per stored batch, CHUNK_BATCHES_IN_FLIGHT at a time; finalize reads one result list per batch. */
  const generateInBatches = async (batches: ArtifactRef[]) => {
    progress.phase = 'generating';
    generationStartedAt = Date.now();
    const { workflowId } = workflowInfo();
    const done: DatasetChunkBatchResult[] = new Array(batches.length);
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const at = next++;
        done[at] = await executeChild(generateDatasetChunks, { workflowId: `${workflowId}/chunks-${at + 1}`, args: [{ tasks: batches[at]! }] });
        onChunksDone(done[at]!.chunks, done[at]!.drafted_by_type);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHUNK_BATCHES_IN_FLIGHT, batches.length) }, lane));
    progress.phase = 'finalizing';
    progress.eta_seconds = null;
    const finalized = await finalizeDatasetBuild({ plan: plan.plan, chunk_results: [], chunk_result_lists: done.map((b) => b.results), rejected_drafts: [], ...verdicts });
    progress.phase = 'done';
    return checked('BuildDatasetResult', { ...finalized, chunks: plan.chunks, reused_chunks: done.reduce((n, b) => n + b.reused, 0) });
  };
  if (plan.chunk_batches) return generateInBatches(plan.chunk_batches);

  const generateAll = async () => {
    progress.phase = 'generating';
    generationStartedAt = Date.now();
    return { results: await Promise.all(chunkIndexes.map((i) => generate(i))), rejected_drafts: [] };
  };

  /** Draft every chunk, wait for a verdict on each batch, answer the approved drafts; rejected ones are counted at finalize. */
  const generateAfterReview = async (batchSize: number) => {
    progress.phase = 'drafting';
    const drafts: DatasetDrafts[] = await Promise.all(plan.chunk_work!.map((work) => draftDatasetChunk({ work })));
    const verdictOf = (d: DatasetDrafts) => decisions.get(Math.floor(d.chunk_index / batchSize))!;
    progress.pending_review = [...new Set(chunkIndexes.map((i) => Math.floor(i / batchSize)))];
    const batches = progress.pending_review.length;
    progress.phase = 'awaiting_review';
    await condition(() => decisions.size === batches);

    progress.phase = 'generating';
    generationStartedAt = Date.now();
    const rejected = drafts.filter((d) => verdictOf(d).decision === 'reject');
    for (const d of rejected) {
      progress.chunks_total--;
      for (const [type, n] of Object.entries(d.drafted_by_type)) progress.by_task_type[type]!.total -= n;
    }
    const approved = drafts.filter((d) => verdictOf(d).decision === 'approve');
    return {
      results: await Promise.all(approved.map((d) => generate(d.chunk_index, d.drafts))),
      rejected_drafts: rejected.map((d) => ({ drafts: d.drafts, reason: verdictOf(d).reason ?? 'rejected in review' })),
    };
  };

  const { results, rejected_drafts } = request.review ? await generateAfterReview(request.review.batch_size) : await generateAll();
  progress.phase = 'finalizing';
  progress.eta_seconds = null;
  const finalized = await finalizeDatasetBuild({ plan: plan.plan, chunk_results: results.map((r) => r.result), rejected_drafts, ...verdicts });
  progress.phase = 'done';
  return checked('BuildDatasetResult', {
    ...finalized,
    chunks: plan.chunks,
    reused_chunks: results.filter((r) => r.reused).length,
  });
}


/**
 * One batch of a buildDataset: its chunks in groups of CHUNKS_PER_ACTIVITY, the groups side by side, in
 * a history of its own; the result refs go back as one stored list.
 */
export async function generateDatasetChunks(input: DatasetChunkBatch): Promise<DatasetChunkBatchResult> {
  const tasks = await loadChunkBatch(checked('DatasetChunkBatch', input).tasks);
  const groups = Array.from({ length: Math.ceil(tasks.length / CHUNKS_PER_ACTIVITY) }, (_, i) => tasks.slice(i * CHUNKS_PER_ACTIVITY, (i + 1) * CHUNKS_PER_ACTIVITY));
  const results = (await Promise.all(groups.map((group) => generateDatasetChunkGroup({ tasks: group })))).flatMap((g) => g.results);
  const drafted_by_type: Record<string, number> = {};
  for (const r of results) for (const [type, n] of Object.entries(r.drafted_by_type)) drafted_by_type[type] = (drafted_by_type[type] ?? 0) + n;
  return checked('DatasetChunkBatchResult', {
    results: await storeChunkResults({ results: results.map((r) => r.result) }),
    chunks: results.length,
    reused: results.filter((r) => r.reused).length,
    drafted_by_type,
  });
}
