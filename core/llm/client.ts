/**
 * The one OpenAI-compatible Chat Completions client: per-request timeout, retries with exponential
 * backoff on transient failures, a concurrency limit, JSON-schema-constrained output where the server
 * accepts it, and a response cache keyed by the request hash so replays and retries never pay twice.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, sha256Hex } from '../artifacts';
import { TypedError } from '../errors';
import { writeFileAtomically } from '../atomic-file';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens: number;
  temperature: number;
  /** Constrains the reply to this JSON Schema (response_format json_schema) when the server supports it. */
  json_schema?: { name: string; schema: Record<string, unknown> };
}

export interface ChatResult {
  content: string;
  cached: boolean;
  /** False when the server refused response_format and the reply is unconstrained. */
  constrained: boolean;
}

export interface ChatClientOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter. */
  backoffMs?: number;
  concurrency?: number;
  /** Folder of cached responses; no caching when absent. */
  cacheDir?: string;
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ChatClient {
  private readonly limiter: Semaphore;
  /** Learned once per client: servers that reject response_format get unconstrained requests. */
  private jsonSchemaSupported = true;

  constructor(private readonly options: ChatClientOptions) {
    this.limiter = new Semaphore(options.concurrency ?? 2);
  }

  get model(): string {
    return this.options.model;
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const key = sha256Hex(canonicalJson({ url: this.options.baseUrl, model: this.options.model, request }));
    const cached = await this.readCache(key);
    if (cached) return { ...cached, cached: true };
    const result = await this.limiter.run(() => this.withRetries(request));
    await this.writeCache(key, result);
    return { ...result, cached: false };
  }

  private async withRetries(request: ChatRequest): Promise<Omit<ChatResult, 'cached'>> {
    const maxRetries = this.options.maxRetries ?? 3;
    const backoff = this.options.backoffMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.post(request);
      } catch (err) {
        const retryable = !(err instanceof TypedError) || !err.nonRetryable;
        if (!retryable || attempt >= maxRetries) throw err;
        await sleep(backoff * 2 ** attempt * (0.75 + Math.random() * 0.5));
      }
    }
  }

  private async post(request: ChatRequest): Promise<Omit<ChatResult, 'cached'>> {
    const constrained = Boolean(request.json_schema) && this.jsonSchemaSupported;
    const body: Record<string, unknown> = { model: this.options.model, messages: request.messages, max_tokens: request.max_tokens, temperature: request.temperature };
    if (constrained) body.response_format = { type: 'json_schema', json_schema: { name: request.json_schema!.name, schema: request.json_schema!.schema, strict: true } };
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/chat/completions`;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new TypedError('LlmTimeout', `no reply from ${url} within ${timeoutMs} ms`, {}, false);
      throw new TypedError('LlmUnavailable', `cannot reach ${url}: ${(err as Error).message}`, {}, false);
    }
    const text = await response.text();
    if (response.status === 429 || response.status >= 500) throw new TypedError('LlmUnavailable', `${url} answered ${response.status}: ${text.slice(0, 200)}`, { status: response.status }, false);
    if (!response.ok) {
      if (constrained && /response_format|json_schema|grammar/i.test(text)) {
        this.jsonSchemaSupported = false;
        return this.post(request);
      }
      throw new TypedError('LlmRequestRejected', `${url} answered ${response.status}: ${text.slice(0, 200)}`, { status: response.status }, true);
    }
    const content = (JSON.parse(text) as { choices?: { message?: { content?: string | null } }[] }).choices?.[0]?.message?.content;
    if (typeof content !== 'string' || !content.trim()) throw new TypedError('LlmEmptyReply', `${url} returned no message content`, {}, true);
    return { content, constrained };
  }

  private cachePath(key: string): string | undefined {
    return this.options.cacheDir ? path.join(this.options.cacheDir, key.slice(0, 2), `${key}.json`) : undefined;
  }

  private async readCache(key: string): Promise<Omit<ChatResult, 'cached'> | undefined> {
    const file = this.cachePath(key);
    if (!file) return undefined;
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as Omit<ChatResult, 'cached'>;
    } catch {
      return undefined;
    }
  }

  /** Temp file + rename: concurrent writers of the same key never leave a torn entry. */
  private async writeCache(key: string, result: Omit<ChatResult, 'cached'>): Promise<void> {
    const file = this.cachePath(key);
    if (!file) return;
    await writeFileAtomically(file, JSON.stringify(result));
  }
}
