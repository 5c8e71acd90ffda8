/**
 * The OpenAI Chat Completions wire format, shared by the llama.cpp model server and its tests:
 * request validation into a `ChatRequest`, response/chunk builders, and OpenAI-shaped errors.
 * Plain functions, no model, so every rule here is unit-tested without loading weights.
 */

/** An error the HTTP layer turns into `{error: {message, type, code}}` with `status`. */
export class OpenAIError extends Error {
  constructor(
    readonly status: number,
    readonly type: 'invalid_request_error' | 'not_found_error' | 'server_overloaded' | 'server_error',
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'OpenAIError';
  }

  toBody(): { error: { message: string; type: string; code: string | null; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Output constraint compiled to a llama.cpp grammar. */
export type OutputFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: Record<string, unknown> };

export interface ChatRequest {
  model: string | undefined;
  messages: ChatMessage[];
  maxTokens: number | undefined;
  temperature: number;
  topP: number | undefined;
  seed: number | undefined;
  stop: string[];
  stream: boolean;
  includeUsageInStream: boolean;
  format: OutputFormat;
}

/** OpenAI's default sampling temperature. */
const DEFAULT_TEMPERATURE = 1;
const MAX_STOP_SEQUENCES = 4;

const invalid = (message: string, param: string | null = null) => new OpenAIError(400, 'invalid_request_error', message, 'invalid_request', param);

export function parseJsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new OpenAIError(400, 'invalid_request_error', `request body is not valid JSON: ${(err as Error).message}`, 'invalid_json');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`'${name}' must be a number in [${min}, ${max}]`, name);
  }
  return value;
}

/** OpenAI accepts a string or an array of `{type: "text", text}` parts; images and audio are not served here. */
function messageText(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part, partIndex) => {
        if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
        throw invalid(`messages[${index}].content[${partIndex}] must be a text part`, `messages[${index}].content`);
      })
      .join('');
  }
  throw invalid(`messages[${index}].content must be a string or an array of text parts`, `messages[${index}].content`);
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid("'messages' must be a non-empty array", 'messages');
  return value.map((message, index) => {
    if (!isRecord(message)) throw invalid(`messages[${index}] must be an object`, 'messages');
    // `developer` is the newer name OpenAI uses for system instructions.
    const role = message.role === 'developer' ? 'system' : message.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant') {
      throw invalid(`messages[${index}].role must be one of system, developer, user, assistant`, `messages[${index}].role`);
    }
    return { role, content: messageText(message.content, index) };
  });
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const stops = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(stops) || stops.length > MAX_STOP_SEQUENCES || !stops.every((s) => typeof s === 'string' && s.length > 0)) {
    throw invalid(`'stop' must be a non-empty string or up to ${MAX_STOP_SEQUENCES} of them`, 'stop');
  }
  return stops;
}

function parseFormat(value: unknown): OutputFormat {
  if (value === undefined || value === null) return { type: 'text' };
  if (!isRecord(value)) throw invalid("'response_format' must be an object", 'response_format');
  switch (value.type) {
    case 'text':
    case 'json_object':
      return { type: value.type };
    case 'json_schema': {
      const spec = value.json_schema;
      if (!isRecord(spec) || !isRecord(spec.schema)) {
        throw invalid("'response_format.json_schema.schema' must be a JSON schema object", 'response_format');
      }
      return { type: 'json_schema', schema: spec.schema };
    }
    default:
      throw invalid("'response_format.type' must be text, json_object or json_schema", 'response_format');
  }
}

export function parseChatRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw invalid('request body must be a JSON object');
  if (body.model !== undefined && typeof body.model !== 'string') throw invalid("'model' must be a string", 'model');
  optionalNumber(body, 'n', 1, 1); // one choice per request is all this server generates
  for (const unsupported of ['tools', 'functions', 'logprobs'] as const) {
    if (body[unsupported] !== undefined && body[unsupported] !== null && body[unsupported] !== false) {
      throw invalid(`'${unsupported}' is not supported by this server`, unsupported);
    }
  }
  const maxTokens = optionalNumber(body, 'max_completion_tokens', 1, 1_000_000) ?? optionalNumber(body, 'max_tokens', 1, 1_000_000);
  if (maxTokens !== undefined && !Number.isInteger(maxTokens)) throw invalid("'max_tokens' must be an integer", 'max_tokens');
  const seed = optionalNumber(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (seed !== undefined && !Number.isInteger(seed)) throw invalid("'seed' must be an integer", 'seed');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid("'stream' must be a boolean", 'stream');
  const streamOptions = body.stream_options;
  return {
    model: body.model as string | undefined,
    messages: parseMessages(body.messages),
    maxTokens,
    temperature: optionalNumber(body, 'temperature', 0, 2) ?? DEFAULT_TEMPERATURE,
    topP: optionalNumber(body, 'top_p', 0, 1),
    seed,
    stop: parseStop(body.stop),
    stream: body.stream === true,
    includeUsageInStream: isRecord(streamOptions) && streamOptions.include_usage === true,
    format: parseFormat(body.response_format),
  };
}

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export function chatCompletion(identity: CompletionIdentity, content: string, finishReason: FinishReason, tokenUsage: Usage) {
  return {
    ...identity,
    object: 'chat.completion' as const,
    choices: [{ index: 0, message: { role: 'assistant' as const, content }, finish_reason: finishReason, logprobs: null }],
    usage: tokenUsage,
  };
}

/** One `chat.completion.chunk`; the first carries the role, the last the finish reason, a trailing one (opt-in) the usage. */
export function chatCompletionChunk(
  identity: CompletionIdentity,
  delta: { role?: 'assistant'; content?: string },
  finishReason: FinishReason | null,
  tokenUsage?: Usage,
) {
  return {
    ...identity,
    object: 'chat.completion.chunk' as const,
    choices: tokenUsage ? [] : [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...(tokenUsage ? { usage: tokenUsage } : {}),
  };
}
