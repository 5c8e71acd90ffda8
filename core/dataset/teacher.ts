/**
 * The teacher engine: the template drafts' prompts answered by an LLM instead of by rule, through the
 * shared chat client with JSON-schema-constrained replies, then scored by a judge (the same LLM or another)
 * on a written rubric.
 */
import type { ChatClient, ChatMessage } from '../llm/client';
import { TypedError } from '../errors';
import type { JudgeCriteria } from '../../schemas/generated/types';
import type { Draft } from './draft';
import { renderPrompt } from './draft';

export const TEACHER_PROMPT_VERSION = 2;

/** Ranking pairs are built by construction (grounded vs. degraded); the teacher answers the other four types. */
const TEACHER_TASKS = new Set(['summary', 'classification', 'reasoning', 'rewrite']);

const SYSTEM = {
  en: 'You are a careful assistant. Answer only from the text you are given, in English.',
  zh: '你是一个严谨的助手。只根据给出的文字回答，用中文回答。',
};

/** Production prompts (feedback loop) come with no text to answer from. */
const OPEN_SYSTEM = {
  en: 'You are a careful assistant. Answer the question correctly and concisely, in English.',
  zh: '你是一个严谨的助手。准确、简洁地回答问题，用中文回答。',
};

export function teacherDrafts(templateDrafts: Draft[], model: string): Draft[] {
  return templateDrafts
    .filter((d) => TEACHER_TASKS.has(d.task_type) && !d.refusal)
    .map((d) => {
      const generator = `${model}/${d.task_type}@${TEACHER_PROMPT_VERSION}`;
      return { ...d, id: `${d.id}:teacher`, engine: 'teacher' as const, generator, completion: undefined, answer_labels: undefined };
    });
}

/** The teacher's answer as the draft's completion; a reply that is not the JSON asked for is an UnparseableReply. */
export async function answerWithTeacher(draft: Draft, client: ChatClient, options: { max_tokens: number; temperature: number }): Promise<Draft> {
  const messages: ChatMessage[] = [
    { role: 'system', content: (draft.feedback ? OPEN_SYSTEM : SYSTEM)[draft.language] },
    { role: 'user', content: renderPrompt(draft) },
  ];
  if (draft.task_type === 'classification') {
    const schema = { type: 'object', properties: { labels: { type: 'array', items: { type: 'string', enum: draft.labels } } }, required: ['labels'], additionalProperties: false };
    const reply = parseReply(await client.complete({ messages, ...options, json_schema: { name: 'labels', schema } }));
    const labels = Array.isArray(reply.labels) ? reply.labels.filter((l): l is string => typeof l === 'string') : [];
    return { ...draft, answer_labels: labels, completion: JSON.stringify(labels) };
  }
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
  const reply = parseReply(await client.complete({ messages, ...options, json_schema: { name: 'answer', schema } }));
  if (typeof reply.answer !== 'string') throw new TypedError('UnparseableReply', 'teacher reply has no string "answer"', {}, true);
  return { ...draft, completion: reply.answer.trim() };
}

const JUDGE_RUBRIC = [
  'You grade an answer that was written from a passage, for a training dataset. Score each criterion from 1 to 5.',
  'faithful: every statement in the answer is supported by the passage (5 = all supported; 3 = one unsupported detail; 1 = contradicts the passage or invents facts).',
  'complete: the answer covers what the instruction asks for (5 = nothing missing; 3 = a main point missing; 1 = most of it missing).',
  'answers: the answer does what the instruction asks, in the form it asks for (5 = exactly; 3 = partly, or in another form; 1 = ignores the instruction).',
  'Reply with JSON {"faithful": n, "complete": n, "answers": n}.',
].join('\n');

const CRITERIA = ['faithful', 'complete', 'answers'] as const;

/** The judge's rubric scores of one answer to a prompt (instruction and passage). */
export async function judgeAnswer(prompt: string, answer: string, client: ChatClient): Promise<JudgeCriteria> {
  const score = { type: 'integer', minimum: 1, maximum: 5 };
  const schema = { type: 'object', properties: Object.fromEntries(CRITERIA.map((c) => [c, score])), required: [...CRITERIA], additionalProperties: false };
  const reply = parseReply(
    await client.complete({
      messages: [
        { role: 'system', content: JUDGE_RUBRIC },
        { role: 'user', content: `Instruction and passage:\n${prompt}\n\nAnswer:\n${answer}` },
      ],
      max_tokens: 48,
      temperature: 0,
      json_schema: { name: 'rubric', schema },
    }),
  );
  const scores = CRITERIA.map((c) => Number(reply[c]));
  if (scores.some((v) => !Number.isInteger(v) || v < 1 || v > 5)) throw new TypedError('UnparseableReply', `judge scores ${JSON.stringify(reply)} are not 1..5 for ${CRITERIA.join(', ')}`, {}, true);
  return { faithful: scores[0]!, complete: scores[1]!, answers: scores[2]! };
}

/** The weakest criterion decides: a faithful but incomplete answer is not a good sample. Mapped to [0, 1]. */
export function judgeScore(criteria: JudgeCriteria): number {
  return (Math.min(criteria.faithful, criteria.complete, criteria.answers) - 1) / 4;
}

/** The rejection reason for a judged sample: its weakest criterion (faithfulness first on ties). */
export function judgeRejectionReason(criteria: JudgeCriteria): 'judge_unfaithful' | 'judge_incomplete' | 'judge_off_instruction' {
  const weakest = Math.min(criteria.faithful, criteria.complete, criteria.answers);
  return criteria.faithful === weakest ? 'judge_unfaithful' : criteria.complete === weakest ? 'judge_incomplete' : 'judge_off_instruction';
}

function parseReply(result: { content: string }): Record<string, unknown> {
  const text = result.content.trim();
  // Unconstrained servers often wrap JSON in prose or a code fence: take the outermost object.
  const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  try {
    const value: unknown = JSON.parse(json);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the typed error below
  }
  throw new TypedError('UnparseableReply', `teacher reply is not a JSON object: ${text.slice(0, 120)}`, {}, true);
}
