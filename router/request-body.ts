/**
 * Reading and checking a client's JSON body before anything else touches it. Nesting is bounded
 * before parsing, since every later step (hashing the prompt, validating, forwarding) walks the value
 * recursively and a deeply nested body would overflow the stack; messages are checked to be the
 * shapes the Chat Completions API defines, so upstreams and the prompt store only see those.
 */
import type http from 'node:http';
import { HttpError } from './http-error';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Far above any real request (tool schemas nest a dozen levels), far below a stack overflow. */
export const MAX_JSON_DEPTH = 64;
export const AUTO_MODEL = 'auto';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

export interface ChatMessage {
  role: string;
  content: unknown;
}

export interface ChatBody extends Record<string, unknown> {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
}

/** The deepest array/object nesting of a JSON text, counted without parsing it (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

export async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'invalid_request_error', `request body is over ${MAX_BODY_BYTES} bytes`, 'body_too_large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new HttpError(400, 'invalid_request_error', `request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_request_error', `request body is not valid JSON: ${(err as Error).message}`, 'invalid_json');
  }
}

function invalid(message: string): HttpError {
  return new HttpError(400, 'invalid_request_error', message, 'invalid_request');
}

/** The Chat Completions content forms: a string, an array of typed parts, or null where a message may carry tool calls instead. */
function checkContent(message: Record<string, unknown>, index: number): void {
  const { content, role } = message;
  if (typeof content === 'string') return;
  if (content === null || content === undefined) {
    if (role === 'assistant') return;
    throw invalid(`messages[${index}].content is required for role '${String(role)}'`);
  }
  if (!Array.isArray(content)) throw invalid(`messages[${index}].content must be a string or an array of content parts`);
  content.forEach((part: unknown, j) => {
    const p = part as Record<string, unknown> | null;
    if (!p || typeof p !== 'object' || Array.isArray(p) || typeof p.type !== 'string') throw invalid(`messages[${index}].content[${j}] must be an object with a string 'type'`);
    if (p.type === 'text' && typeof p.text !== 'string') throw invalid(`messages[${index}].content[${j}].text must be a string`);
  });
}

export function parseChatBody(body: unknown): ChatBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('request body must be a JSON object');
  const { model, messages, stream } = body as Record<string, unknown>;
  if (typeof model !== 'string' || !model) throw invalid(`'model' is required: '${AUTO_MODEL}' to route, or a model id`);
  if (!Array.isArray(messages) || messages.length === 0) throw invalid("'messages' must be a non-empty array");
  messages.forEach((m: unknown, i) => {
    const message = m as Record<string, unknown> | null;
    if (!message || typeof message !== 'object' || Array.isArray(message)) throw invalid(`messages[${i}] must be an object`);
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) throw invalid(`messages[${i}].role must be one of ${[...ROLES].join(', ')}`);
    checkContent(message, i);
  });
  if (stream !== undefined && typeof stream !== 'boolean') throw invalid("'stream' must be a boolean");
  return body as ChatBody;
}
