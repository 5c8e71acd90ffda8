/**
 * One chunk's work: draft prompts (templates, and teacher copies for the first chunks), answer them,
 * pass each answer through the quality gates. Every draft ends as exactly one outcome, accepted,
 * rejected (by gate) or failed (by error), which is what keeps the manifest's counts identity true.
 */
import { TypedError } from '../errors';
import type { ChatClient } from '../llm/client';
import type { DatasetBuildConfig, DatasetRejection, DatasetSample, FeedbackTask, JudgeCriteria } from '../../schemas/generated/types';
import type { Chunk, DatasetPlanContent } from './types';
import type { Draft } from './draft';
import { renderPrompt } from './draft';
import { feedbackDrafts, tasksOfChunk } from './feedback-chunks';
import { checkSample } from './quality';
import { answerWithTeacher, judgeAnswer, judgeScore, teacherDrafts } from './teacher';
import { templateDrafts } from './templates';

export interface AcceptedDraft {
  draft: Draft;
  sample: DatasetSample;
}

export interface ChunkOutcomes {
  kind: 'llmloop.dataset-chunk/v1';
  chunk_id: string;
  accepted: AcceptedDraft[];
  rejections: DatasetRejection[];
}

/** Reasons a teacher reply is refused before the gates run: the teacher answered, but not usably. */
const REPLY_REJECTIONS = new Set(['UnparseableReply', 'LlmEmptyReply']);

/** Everything one chunk's generation reads, so an activity loads this and not the whole plan. */
export interface ChunkWork {
  kind: 'llmloop.dataset-chunk-work/v1';
  chunk_index: number;
  chunk: Chunk;
  taxonomy: string[];
  distractor?: Chunk;
  /** A feedback chunk's production prompts. */
  feedback_tasks?: FeedbackTask[];
  config: DatasetBuildConfig;
}

/**
 * Every chunk's work, in plan order. The lookups each chunk needs (its document's outline, the
 * distractor pool) are built once for the plan, not rescanned per chunk.
 */
export function chunkWorks(plan: DatasetPlanContent): ChunkWork[] {
  const outlines = new Map<string, string[]>();
  for (const d of plan.documents) if (!outlines.has(d.sha256)) outlines.set(d.sha256, d.taxonomy);
  const distractorOf = distractorPicker(plan.chunks, plan.config.seed);
  return plan.chunks.map((chunk, chunkIndex) => {
    if (chunk.kind === 'feedback') {
      return { kind: 'llmloop.dataset-chunk-work/v1', chunk_index: chunkIndex, chunk, taxonomy: [], feedback_tasks: tasksOfChunk(chunk, plan.feedback), config: plan.config };
    }
    return {
      kind: 'llmloop.dataset-chunk-work/v1',
      chunk_index: chunkIndex,
      chunk,
      taxonomy: outlines.get(chunk.source_sha256) ?? [],
      ...distractorOf(chunkIndex),
      config: plan.config,
    };
  });
}

export function draftChunk(work: ChunkWork): Draft[] {
  const { config } = work;
  // Every feedback task goes to the teacher: max_chunks bounds the teacher's share of the documents, not of production traffic.
  if (work.chunk.kind === 'feedback') return feedbackDrafts(work.chunk, work.feedback_tasks ?? [], config.teacher?.model);
  const drafts = templateDrafts(work.chunk, {
    taskTypes: config.task_types,
    taxonomy: work.taxonomy,
    seed: config.seed,
    ...(config.style_guide ? { styleGuide: config.style_guide } : {}),
    ...(work.distractor ? { distractor: work.distractor } : {}),
  });
  const teacher = config.teacher;
  const askTeacher = teacher && (teacher.max_chunks === undefined || work.chunk_index < teacher.max_chunks);
  return askTeacher ? [...drafts, ...teacherDrafts(drafts, teacher.model)] : drafts;
}

/**
 * For a document chunk: a chunk of another document (or, in a one-document build, another section),
 * picked by seed, for off-topic answers. The pick is the ((index * 7919 + seed) mod pool size)-th
 * chunk of that pool in plan order, found by skipping the chunk's own document's positions.
 */
function distractorPicker(chunks: Chunk[], seed: number): (index: number) => { distractor?: Chunk } {
  const documentChunks: Chunk[] = [];
  const positionsBySource = new Map<string, number[]>();
  for (const c of chunks) {
    if (c.kind === 'feedback') continue;
    const positions = positionsBySource.get(c.source_sha256) ?? [];
    if (!positions.length) positionsBySource.set(c.source_sha256, positions);
    positions.push(documentChunks.length);
    documentChunks.push(c);
  }
  return (index) => {
    const self = chunks[index]!;
    const pick = (poolSize: number) => (index * 7919 + seed) % poolSize;
    const own = positionsBySource.get(self.source_sha256)!;
    if (documentChunks.length > own.length) {
      let at = pick(documentChunks.length - own.length);
      for (const position of own) {
        if (position > at) break;
        at++;
      }
      return { distractor: documentChunks[at]! };
    }
    const pool = documentChunks.filter((c) => c.id !== self.id);
    return pool.length ? { distractor: pool[pick(pool.length)]! } : {};
  };
}

/** The LLMs a build talks to: the teacher answers, the judge (the teacher itself unless another is configured) scores. */
export interface BuildClients {
  teacher?: ChatClient;
  judge?: ChatClient;
}

export async function answerDrafts(chunk: Chunk, drafts: Draft[], config: DatasetBuildConfig, clients: BuildClients, onAnswered: () => void = () => undefined): Promise<ChunkOutcomes> {
  const outcomes: ChunkOutcomes = { kind: 'llmloop.dataset-chunk/v1', chunk_id: chunk.id, accepted: [], rejections: [] };
  const results = await Promise.all(
    drafts.map(async (draft) => {
      const result = await answerOne(chunk, draft, config, clients);
      onAnswered();
      return result;
    }),
  );
  for (const result of results) {
    if ('draft' in result) outcomes.accepted.push(result);
    else outcomes.rejections.push(result);
  }
  return outcomes;
}

async function answerOne(chunk: Chunk, draft: Draft, config: DatasetBuildConfig, { teacher, judge = teacher }: BuildClients): Promise<AcceptedDraft | DatasetRejection> {
  const refuse = (outcome: 'rejected' | 'failed', reason: string, detail: string, sample?: unknown): DatasetRejection => ({
    outcome,
    reason,
    detail,
    task_type: draft.task_type,
    chunk_id: draft.chunk_id,
    generator: draft.generator,
    round: draft.round,
    ...(sample ? { sample: sample as Record<string, unknown> } : {}),
  });
  if (draft.refusal) return refuse('rejected', draft.refusal.reason, draft.refusal.detail);
  let answered = draft;
  let criteria: JudgeCriteria | undefined;
  if (draft.engine === 'teacher') {
    if (!teacher) {
      // Feedback drafts exist whether or not a teacher is configured, so each is counted rather than dropped.
      if (draft.feedback) return refuse('rejected', 'no_teacher_for_feedback', `production prompt ${draft.feedback.task_id} needs a teacher to answer it`);
      return refuse('failed', 'TeacherNotConfigured', 'a teacher draft reached a build without a teacher');
    }
    const settings = { max_tokens: config.teacher?.max_tokens ?? 256, temperature: config.teacher?.temperature ?? 0 };
    try {
      answered = await answerWithTeacher(draft, teacher, settings);
      // The rubric judges an answer against its passage; a production prompt (feedback) comes with none.
      if (config.judge_threshold !== undefined && judge && !draft.feedback) criteria = await judgeAnswer(renderPrompt(answered), answered.completion ?? '', judge);
    } catch (err) {
      const type = err instanceof TypedError ? err.type : 'UnexpectedError';
      const message = (err as Error).message;
      return REPLY_REJECTIONS.has(type) ? refuse('rejected', 'unparseable_reply', message) : refuse('failed', type, message);
    }
  }
  const sample = toSample(answered, chunk, criteria);
  const refusal = checkSample(sample, answered.source_span, config);
  return refusal ? refuse('rejected', refusal.reason, refusal.detail, sample) : { draft: answered, sample };
}

export function toSample(draft: Draft, chunk: Chunk, criteria?: JudgeCriteria): DatasetSample {
  return {
    id: draft.id,
    task_type: draft.task_type,
    language: draft.language,
    prompt: renderPrompt(draft),
    completion: draft.completion ?? '',
    ...(draft.task_type === 'classification' ? { labels: draft.labels ?? [], answer_labels: draft.answer_labels ?? [] } : {}),
    ...(draft.task_type === 'ranking' ? { chosen: draft.chosen!, rejected: draft.rejected!, preference_reason: draft.preference_reason! } : {}),
    provenance: {
      source_sha256: chunk.source_sha256,
      source_path: chunk.source_path,
      units: chunk.units,
      block_ids: chunk.block_ids,
      chunk_id: chunk.id,
      engine: draft.engine,
      generator: draft.generator,
      ...(draft.operator ? { operator: draft.operator } : {}),
      round: draft.round,
      judge_score: criteria ? judgeScore(criteria) : null,
      ...(criteria ? { judge_criteria: criteria } : {}),
      source_span: draft.source_span,
      ...(draft.feedback ? { feedback: draft.feedback } : {}),
      ...(chunk.ocr_confidence !== undefined ? { source: 'ocr' as const, ocr_confidence: chunk.ocr_confidence } : {}),
    },
  };
}
