/**
 * The teacher engine: the template drafts' prompts answered by an LLM instead of by rule, through the
 * shared chat client with JSON-schema-constrained replies, and optionally scored by the same LLM as judge.
 */
import type { ChatClient, ChatMessage } from '../llm/client';
import { TypedError } from '../errors';
import type { Draft } from './draft';
import { renderPrompt } from './draft';

export const TEACHER_PROMPT_VERSION = 1;

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

/** The judge's 1..5 grounding score mapped to [0, 1]. */
export async function judgeScore(prompt: string, answer: string, client: ChatClient): Promise<number> {
  const schema = { type: 'object', properties: { score: { type: 'integer', minimum: 1, maximum: 5 } }, required: ['score'], additionalProperties: false };
  const reply = parseReply(
    await client.complete({
      messages: [
        { role: 'system', content: 'You grade answers. Reply with JSON {"score": 1-5}: 5 = fully correct and supported by the text, 1 = wrong or unsupported.' },
        { role: 'user', content: `Question:\n${prompt}\n\nAnswer:\n${answer}` },
      ],
      max_tokens: 16,
      temperature: 0,
      json_schema: { name: 'score', schema },
    }),
  );
  const score = Number(reply.score);
  if (!Number.isInteger(score) || score < 1 || score > 5) throw new TypedError('UnparseableReply', `judge score ${String(reply.score)} is not 1..5`, {}, true);
  return (score - 1) / 4;
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
