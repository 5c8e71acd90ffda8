/**
 * Iterative augmentation operators over accepted template drafts: `paraphrase` rewords the
 * instruction, `focus` narrows a summary to the second half of its passage (a new question with a new
 * answer). Derived drafts go through the same gates and the same near-duplicate index as round 0.
 */
import type { DatasetLanguage, TaskType } from '../../schemas/generated/types';
import type { Draft } from './draft';
import { extractiveSummary } from './templates';
import { splitSentences } from './text';

const PARAPHRASES: Record<TaskType, Record<DatasetLanguage, (instruction: string) => string>> = {
  summary: { en: (i) => `${i.replace(/^Summarize/, 'Give a short summary of')} Keep only the main points.`, zh: (i) => `${i}只保留要点。` },
  classification: { en: (i) => `Classify the passage. ${i}`, zh: (i) => `请对这段文字分类。${i}` },
  reasoning: { en: (i) => i.replace(/^According to/, 'Based on'), zh: (i) => i.replace(/^根据/, '依据') },
  rewrite: { en: (i) => `${i} Keep the meaning unchanged.`, zh: (i) => `${i}不要改变原意。` },
  ranking: { en: (i) => `${i} Be faithful to the text.`, zh: (i) => `${i}请忠实于原文。` },
};

const FOCUS = { en: (i: string) => `${i.replace(/\.$/, '')}, considering only the passage below.`, zh: (i: string) => `${i}只考虑下面这段。` };

export const OPERATORS = ['paraphrase', 'focus'] as const;

export function derive(draft: Draft, round: number): Draft[] {
  const base = { ...draft, round, engine: 'template' as const };
  const derived: Draft[] = [{ ...base, id: `${draft.id}:r${round}:paraphrase`, operator: 'paraphrase', instruction: PARAPHRASES[draft.task_type][draft.language](draft.instruction) }];
  if (draft.task_type === 'summary') {
    const sentences = splitSentences(draft.passage);
    if (sentences.length >= 4) {
      const passage = sentences.slice(Math.floor(sentences.length / 2)).join(draft.language === 'zh' ? '' : ' ');
      derived.push({ ...base, id: `${draft.id}:r${round}:focus`, operator: 'focus', instruction: FOCUS[draft.language](draft.instruction), passage, source_span: passage, completion: extractiveSummary(passage) });
    }
  }
  return derived;
}
