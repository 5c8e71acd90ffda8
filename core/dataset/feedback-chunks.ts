/**
 * Production prompts from the feedback loop (collectFeedback's FeedbackTask rows) as dataset work:
 * feedback chunks of the plan, each task one teacher draft. There is no source document, so the
 * prompt is the whole instruction, grounding does not apply, and the samples only ever train.
 */
import { canonicalJson, sha256Hex } from '../artifacts';
import { schemaProblems } from '../schemas';
import type { FeedbackOrigin, FeedbackTask, TaskType } from '../../schemas/generated/types';
import type { Draft } from './draft';
import { detectLanguage } from './text';
import type { Chunk, PlannedFeedback } from './types';

/** Tasks per feedback chunk: small enough that one activity's teacher calls stay short and cache separately. */
export const FEEDBACK_CHUNK_SIZE = 16;
export const FEEDBACK_PROMPT_VERSION = 1;
/**
 * A feedback task keeps the task type of the cluster it was routed to (collectFeedback reads it from
 * the routing table). Classification and ranking samples need a label set or an answer pair that a
 * production prompt does not come with, and traffic far from every cluster has no type: those are
 * answered as open questions, `reasoning`.
 */
const OPEN_QUESTION: TaskType = 'reasoning';
const KEPT_TYPES: ReadonlySet<TaskType> = new Set(['summary', 'reasoning', 'rewrite']);

function feedbackTaskType(task: FeedbackTask): TaskType {
  return task.task_type && KEPT_TYPES.has(task.task_type) ? task.task_type : OPEN_QUESTION;
}

export interface FeedbackBatch {
  /** sha256 of the tasks artifact: the feedback samples' source. */
  tasks_sha256: string;
  /** The artifact's JSONL rows, parsed or not: each is checked here. */
  rows: unknown[];
}

/** A JSONL line that did not parse: kept in place so the row check reports it with its line number. */
export class UnparseableLine {
  constructor(readonly error: string) {}
}

/** Splits a JSONL artifact into rows (blank lines skipped). */
export function parseFeedbackJsonl(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (err) {
        return new UnparseableLine((err as Error).message);
      }
    });
}

/** Valid rows become tasks (first occurrence of an id wins); invalid ones are reported with their line, never failing the build. */
export function planFeedback(batch: FeedbackBatch): { feedback: PlannedFeedback; chunks: Chunk[]; skipped: { input: string; reason: string }[] } {
  const tasks: FeedbackTask[] = [];
  const skipped: { input: string; reason: string }[] = [];
  const seen = new Set<string>();
  batch.rows.forEach((row, i) => {
    const refusal = feedbackRowProblem(row, seen);
    if (refusal) {
      skipped.push({ input: `feedback ${batch.tasks_sha256} line ${i + 1}`, reason: refusal });
      return;
    }
    const task = row as FeedbackTask;
    seen.add(task.id);
    tasks.push(task);
  });
  const chunks: Chunk[] = [];
  for (let start = 0; start < tasks.length; start += FEEDBACK_CHUNK_SIZE) {
    const members = tasks.slice(start, start + FEEDBACK_CHUNK_SIZE);
    chunks.push({
      id: `feedback-${batch.tasks_sha256.slice(0, 12)}-${chunks.length}`,
      kind: 'feedback',
      source_sha256: batch.tasks_sha256,
      source_path: `feedback/${batch.tasks_sha256}.jsonl`,
      heading_path: [],
      title: 'production feedback',
      text: '',
      block_ids: members.map((t) => t.id),
      units: [],
      language: detectLanguage(members.map((t) => t.prompt).join('\n')),
      content_hash: sha256Hex(canonicalJson(members)),
    });
  }
  return { feedback: { tasks_sha256: batch.tasks_sha256, tasks }, chunks, skipped };
}

function feedbackRowProblem(row: unknown, seenIds: Set<string>): string | undefined {
  if (row instanceof UnparseableLine) return `not JSON: ${row.error}`;
  const problems = schemaProblems('FeedbackTask', row);
  if (problems.length) return `not a FeedbackTask: ${problems.slice(0, 3).join('; ')}`;
  const task = row as FeedbackTask;
  if (!task.prompt.trim()) return 'empty prompt';
  if (seenIds.has(task.id)) return `same task id as an earlier row (${task.id})`;
  return undefined;
}

/** The tasks a feedback chunk holds, in chunk order. */
export function tasksOfChunk(chunk: Chunk, feedback: PlannedFeedback | undefined): FeedbackTask[] {
  const byId = new Map((feedback?.tasks ?? []).map((t) => [t.id, t]));
  return chunk.block_ids.flatMap((id) => byId.get(id) ?? []);
}

/** One teacher draft per task: the production prompt is the instruction, the teacher's answer the completion. */
export function feedbackDrafts(chunk: Chunk, tasks: FeedbackTask[], teacherModel: string | undefined): Draft[] {
  return tasks.map((task) => {
    const origin: FeedbackOrigin = {
      tasks_sha256: chunk.source_sha256,
      task_id: task.id,
      request_id: task.request_id,
      reason: task.reason,
      score: task.score ?? null,
    };
    return {
      id: `${chunk.id}:${task.id}`,
      chunk_id: chunk.id,
      task_type: feedbackTaskType(task),
      language: detectLanguage(task.prompt),
      engine: 'teacher',
      // Without a teacher the draft is refused as no_teacher_for_feedback; the id still says what would have answered it.
      generator: `${teacherModel ?? 'no-teacher'}/feedback@${FEEDBACK_PROMPT_VERSION}`,
      instruction: task.prompt,
      passage: '',
      source_span: '',
      round: 0,
      feedback: origin,
    };
  });
}
