/** What a generator produces before quality gates: a prompt with (for templates) its answer. */
import type { DatasetLanguage, FeedbackOrigin, TaskType } from '../../schemas/generated/types';

/** Why a template made no sample where it would have: the manifest counts these like gate rejections. */
export interface DraftRefusal {
  reason: string;
  detail: string;
}

export interface Draft {
  /** Unique within the build: chunk id + generator + position. */
  id: string;
  chunk_id: string;
  task_type: TaskType;
  language: DatasetLanguage;
  engine: 'template' | 'teacher';
  generator: string;
  /** What is asked, without the passage (paraphrase/evolve operators rewrite this). */
  instruction: string;
  /** Source text shown with the instruction; empty when the instruction carries it. */
  passage: string;
  /** Text the answer must be grounded in. */
  source_span: string;
  round: number;
  operator?: string;
  /** Template answer, or the reference a teacher draft is judged against. */
  completion?: string;
  labels?: string[];
  answer_labels?: string[];
  chosen?: string;
  rejected?: string;
  preference_reason?: string;
  /** Set when the template could not make a sample that is true by construction; nothing is answered. */
  refusal?: DraftRefusal;
  /** Set on drafts of production prompts (feedback loop): no source document, train split only. */
  feedback?: FeedbackOrigin;
}

export function renderPrompt(draft: Pick<Draft, 'instruction' | 'passage'>): string {
  return draft.passage ? `${draft.instruction}\n\n${draft.passage}` : draft.instruction;
}
