/**
 * The routing gateway: an OpenAI-compatible endpoint that sends `model: "auto"` requests to the
 * cheapest good-enough model for the request's cluster, and concrete model ids straight through.
 *
 *   node dist/router/gateway.js --config FILE      (config: schemas/gateway-config.schema.json)
 *   node dist/router/gateway.js --hash-key < keyfile   (prints the `sha256:` entry that stores a key)
 *
 * POST /v1/chat/completions (streaming or not), GET /v1/models, POST /v1/feedback (user scores
 * for the request log), GET /metrics (Prometheus; behind a key, or on the separate `metrics`
 * listener), GET /health. SIGTERM drains requests in flight; SIGHUP reopens the request log.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { artifactStoreFromEnv } from '../core/artifacts';
import { lastUserText } from '../core/chat-messages';
import { cosineSimilarity } from '../core/cluster';
import { rankCandidates } from '../core/routing/select';
import { assignCluster, withPredictedQuality } from '../core/routing/table';
import { codecKeysFromEnv } from '../core/codec';
import { schemaProblems } from '../core/schemas';
import type { GatewayFeedbackBody, RoutingCluster, RoutingConstraints, RoutingTable } from '../schemas/generated/types';
import { loadGatewayConfig, type ResolvedGatewayConfig } from './config';
import { CooldownTracker } from './cooldown';
import { EmbeddingClient } from './embedding-client';
import { LiveTable } from './live-table';
import { GatewayMetrics } from './metrics';
import { HttpError, sendError, sendJson } from './http-error';
import { hashApiKey, KeyLimits, KeyRing, type ApiKey } from './keys';
import { PromptStore, promptSha256 } from './prompt-store';
import { AUTO_MODEL, parseChatBody, readJsonBody, type ChatBody } from './request-body';
import { clientAskedForUsage, StreamUsageTap, withUsageRequested } from './stream-usage';
import { RequestLog } from './request-log';
import { AllUpstreamsFailed, RequestStopped, stopReason, UpstreamCaller, type Attempt, type StopReason } from './upstream';

export { AUTO_MODEL };

export interface RunningGateway {
  /** Base URL ending in /v1. */
  url: string;
  /** Base URL of the separate /metrics listener, when configured. */
  metricsUrl: string | null;
  liveTable: LiveTable;
  /** Reopens the request log by name (SIGHUP, after an external rotation). */
  reopenLog(): void;
  /** Stops accepting, lets requests in flight finish (up to drain_timeout_ms), then cuts what is left. */
  close(): Promise<void>;
}

/** Where the gateway reports table changes and failures (stderr unless told otherwise). */
export type GatewayLogger = (line: string) => void;

/** Prompts expire by age: looking once an hour is enough for a TTL counted in days. */
const PROMPT_SWEEP_MS = 3600_000;

export async function startGateway(config: ResolvedGatewayConfig, logger: GatewayLogger = (line) => console.error(line)): Promise<RunningGateway> {
  const metrics = new GatewayMetrics();
  for (const name of config.plaintextKeys) logger(`[gateway] api key '${name}' is configured in plaintext (deprecated): store its digest instead (node dist/router/gateway.js --hash-key)`);
  const log = new RequestLog(config.requestLog, config.requestLogRotation, (err) => {
    metrics.requestLogErrors.inc();
    logger(`[gateway] request log write failed, still serving: ${err.message}`);
  });
  const cooldown = new CooldownTracker(config.cooldown);
  const upstreams = new UpstreamCaller(
    config.upstreams,
    { timeoutMs: config.upstreamTimeoutMs, attempts: config.retries.attempts, backoffMs: config.retries.backoffMs, maxBackoffMs: config.retries.maxBackoffMs },
    cooldown,
    (model, outcome, cooledDown) => {
      metrics.upstreamErrors.inc({ model, kind: outcome });
      if (cooledDown) metrics.cooldowns.inc({ model });
    },
  );
  // The gateway's data dir is its own config's; LLMLOOP_ARTIFACTS (s3://...) still picks the shared store.
  const artifacts = artifactStoreFromEnv({ ...process.env, LLMLOOP_DATA_DIR: config.dataDir });
  const prompts = config.storePrompts ? PromptStore.inDataDir(config.dataDir, codecKeysFromEnv(), config.promptTtlMs) : null;
  const sweepPrompts = () => void prompts?.sweep().catch((err: unknown) => logger(`[gateway] expired prompts not removed: ${errorMessage(err)}`));
  sweepPrompts();
  const sweeper = prompts ? setInterval(sweepPrompts, Math.min(PROMPT_SWEEP_MS, config.promptTtlMs)).unref() : null;
  const liveTable = LiveTable.inDataDir(
    config.dataDir,
    artifacts,
    (table, previous) => {
      if (previous) metrics.tableVersion.remove({ version: previous.version });
      metrics.tableVersion.set({ version: table.version }, 1);
      logger(`[gateway] routing table ${table.version} in service (perf index ${table.perf_index_version})`);
    },
    (err) => logger(`[gateway] routing table not reloaded, the previous one stays in service: ${errorMessage(err)}`),
  );
  await liveTable.start(config.tablePollMs);

  const inFlight = new InFlight();
  const handler = new GatewayHandler(config, liveTable, upstreams, metrics, log, prompts, logger);
  const server = http.createServer((req, res) => {
    inFlight.track(res);
    handler.handle(req, res).catch((err: unknown) => {
      logger(`[gateway] unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) sendError(res, new HttpError(500, 'server_error', 'internal error'));
      else res.destroy();
    });
  });
  const metricsServer = config.metrics ? http.createServer((req, res) => void serveMetrics(req, res, metrics)) : null;
  await listen(server, config.port, config.host);
  if (metricsServer) await listen(metricsServer, config.metrics!.port, config.metrics!.host);
  return {
    url: `http://${config.host}:${(server.address() as AddressInfo).port}/v1`,
    metricsUrl: metricsServer ? `http://${config.metrics!.host}:${(metricsServer.address() as AddressInfo).port}` : null,
    liveTable,
    reopenLog: () => log.reopen(),
    async close() {
      handler.draining = true;
      liveTable.stop();
      if (sweeper) clearInterval(sweeper);
      const closed = Promise.all([server, ...(metricsServer ? [metricsServer] : [])].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      server.closeIdleConnections();
      metricsServer?.closeAllConnections();
      await inFlight.settled(config.drainTimeoutMs);
      server.closeAllConnections();
      await closed;
      await log.close();
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, metrics: GatewayMetrics): Promise<void> {
  if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://gateway').pathname !== '/metrics') return sendError(res, new HttpError(404, 'invalid_request_error', 'only GET /metrics is served here', 'unknown_url'));
  res.writeHead(200, { 'content-type': metrics.registry.contentType });
  res.end(await metrics.registry.metrics());
}

/** Responses not yet finished, so a shutdown can wait for them instead of cutting them. */
class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  track(res: http.ServerResponse): void {
    this.count += 1;
    res.once('close', () => {
      this.count -= 1;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` at the latest. */
  settled(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Aborts once nothing arrived for `ms`; every chunk that does arrive restarts the wait. */
class IdleTimer {
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number, onIdle: () => void) {
    this.timer = setTimeout(onIdle, ms);
  }

  touch(): void {
    this.timer.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

interface Route {
  models: string[];
  cluster: RoutingCluster | null;
  /** Cosine similarity of the prompt to its cluster's centroid (null without an embedding). */
  similarity: number | null;
  table: RoutingTable | null;
  /** Why the route has no cluster: a concrete model was asked for, or the embedding failed. */
  reason: string;
}

/** The status a request ended from outside is logged with: 499 (nginx's "client closed request") or 504. */
function stoppedStatus(reason: StopReason): number {
  return reason === 'client_closed' ? 499 : 504;
}

const STOP_MESSAGES: Record<StopReason, string> = {
  client_closed: 'the client closed the request',
  deadline: "the request's deadline (request_timeout_ms) passed",
  idle: 'the upstream sent nothing for stream_idle_timeout_ms',
};

class GatewayHandler {
  /** Set on close: /health says so, so load balancers stop sending while requests in flight finish. */
  draining = false;
  private readonly embeddings: EmbeddingClient;
  private readonly keys: KeyRing;
  private readonly limits = new KeyLimits();

  constructor(
    private readonly config: ResolvedGatewayConfig,
    private readonly liveTable: LiveTable,
    private readonly upstreams: UpstreamCaller,
    private readonly metrics: GatewayMetrics,
    private readonly log: RequestLog,
    private readonly prompts: PromptStore | null,
    private readonly logger: GatewayLogger,
  ) {
    this.embeddings = new EmbeddingClient(config.embeddings);
    this.keys = new KeyRing(config.apiKeys);
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://gateway').pathname.replace(/\/+$/, '');
    const endpoint = `${req.method} ${pathname}`;
    let key: ApiKey | null = null;
    try {
      if (endpoint === 'GET /health') return sendJson(res, this.draining ? 503 : 200, { status: this.draining ? 'draining' : 'ok', table_version: this.liveTable.current?.version ?? null });
      if (endpoint === 'GET /metrics' && !this.config.metrics) {
        this.authenticate(req);
        return await serveMetrics(req, res, this.metrics);
      }
      if (!pathname.startsWith('/v1/')) throw new HttpError(404, 'invalid_request_error', `no route ${endpoint}`, 'unknown_url');
      key = this.authenticate(req);
      switch (endpoint) {
        case 'GET /v1/models':
          return sendJson(res, 200, { object: 'list', data: [AUTO_MODEL, ...Object.keys(this.config.upstreams)].map((id) => ({ id, object: 'model', created: 0, owned_by: 'llmloop' })) });
        case 'POST /v1/chat/completions':
          this.admit(key);
          return await this.chatCompletion(req, res, key);
        case 'POST /v1/feedback':
          return this.feedback(await readJsonBody(req), res);
        default:
          throw new HttpError(404, 'invalid_request_error', `no route ${endpoint}`, 'unknown_url');
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      // Refused before any upstream was asked (answered requests are counted as they finish).
      if (endpoint === 'POST /v1/chat/completions') {
        this.metrics.requests.inc({ model: 'none', cluster: 'none', status: String(err.status) });
        if (key) this.metrics.keyRequests.inc({ key: key.name, status: String(err.status) });
      }
      sendError(res, err);
    }
  }

  private authenticate(req: http.IncomingMessage): ApiKey {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const key = match ? this.keys.identify(match[1]!.trim()) : null;
    if (!key) throw new HttpError(401, 'invalid_request_error', 'missing or invalid API key (Authorization: Bearer <key>)', 'invalid_api_key');
    return key;
  }

  /** The key's rate limit and budget: 429 with Retry-After when either is spent. */
  private admit(key: ApiKey): void {
    const verdict = this.limits.admit(key);
    if (verdict.allowed) return;
    this.metrics.keyRejections.inc({ key: key.name, reason: verdict.reason });
    const headers = { 'retry-after': String(verdict.retryAfterS) };
    if (verdict.reason === 'budget') {
      throw new HttpError(429, 'insufficient_quota', `key '${key.name}' has spent its budget of ${key.maxBudget}; retry after ${verdict.retryAfterS} s`, 'budget_exceeded', headers);
    }
    throw new HttpError(429, 'rate_limit_error', `key '${key.name}' is over its ${key.rpmLimit} requests per minute; retry after ${verdict.retryAfterS} s`, 'rate_limit_exceeded', headers);
  }

  private async chatCompletion(req: http.IncomingMessage, res: http.ServerResponse, key: ApiKey): Promise<void> {
    const started = performance.now();
    const requestId = `req-${randomUUID()}`;
    // One signal ends everything this request started, with the reason: client gone, deadline passed, upstream silent.
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort('deadline' satisfies StopReason), this.config.requestTimeoutMs);
    res.once('close', () => {
      if (!res.writableFinished) stop.abort('client_closed' satisfies StopReason);
    });
    try {
      await this.answer(req, res, key, requestId, started, stop);
    } finally {
      clearTimeout(deadline);
    }
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, key: ApiKey, requestId: string, started: number, stop: AbortController): Promise<void> {
    const body = parseChatBody(await readJsonBody(req));
    const constraints = { ...this.config.defaults, ...constraintOverrides(req, body) };
    const route = await this.route(body, constraints);
    const { llmloop: _overrides, ...clientBody } = body;
    const forwarded = body.stream === true ? withUsageRequested(clientBody) : clientBody;

    // The log carries the prompt's hash only; with store_prompts the messages are kept, encrypted,
    // under that hash, so the feedback loop can turn them into training tasks.
    const promptHash = promptSha256(body.messages);
    this.prompts?.put(body.messages).catch((err: unknown) => this.logger(`[gateway] prompt not stored: ${errorMessage(err)}`));

    const finish = (status: number, model: string | null, attempts: Attempt[], cost: number, error?: string) => {
      const latencyMs = performance.now() - started;
      const cluster = route.cluster?.id ?? null;
      this.metrics.requests.inc({ model: model ?? 'none', cluster: cluster === null ? 'none' : String(cluster), status: String(status) });
      this.metrics.latency.observe({ model: model ?? 'none' }, latencyMs / 1000);
      this.metrics.keyRequests.inc({ key: key.name, status: String(status) });
      if (model) {
        this.metrics.estimatedCost.inc({ model }, cost);
        this.metrics.keySpend.inc({ key: key.name }, cost);
        this.limits.charge(key, cost);
      }
      this.log.append({
        type: 'request',
        ts: new Date().toISOString(),
        request_id: requestId,
        api_key: key.name,
        prompt_sha256: promptHash,
        requested_model: body.model,
        model,
        cluster,
        cluster_similarity: route.similarity,
        table_version: route.table?.version ?? null,
        status,
        latency_ms: Math.round(latencyMs * 10) / 10,
        cost,
        stream: body.stream === true,
        attempts,
        ...(error ? { error } : {}),
      });
    };

    const routingHeaders: Record<string, string> = {
      'x-request-id': requestId,
      'x-llmloop-cluster': route.cluster ? String(route.cluster.id) : 'none',
      'x-llmloop-route-reason': route.reason,
      ...(route.table ? { 'x-llmloop-table-version': route.table.version } : {}),
    };
    const refuse = (err: HttpError) => sendError(res, new HttpError(err.status, err.type, err.message, err.code, { ...routingHeaders, ...err.headers }));
    let answer;
    try {
      answer = await this.upstreams.call(route.models, forwarded, stop.signal);
    } catch (err) {
      if (err instanceof RequestStopped) {
        finish(stoppedStatus(err.reason), null, err.attempts, 0, err.message);
        if (err.reason !== 'client_closed') refuse(new HttpError(504, 'timeout', `${STOP_MESSAGES[err.reason]} before an upstream answered`, 'timeout'));
        return;
      }
      if (!(err instanceof AllUpstreamsFailed)) throw err;
      finish(502, null, err.attempts, 0, err.message);
      return refuse(new HttpError(502, 'upstream_error', err.message, 'upstream_unavailable'));
    }
    const { model, response, attempts } = answer;
    const headers = {
      ...routingHeaders,
      'x-llmloop-model': model,
      'x-llmloop-attempts': String(attempts.length),
      'content-type': response.headers.get('content-type') ?? 'application/json',
    };
    const idle = new IdleTimer(this.config.streamIdleTimeoutMs, () => stop.abort('idle' satisfies StopReason));
    try {
      if (body.stream === true && response.ok && response.body) {
        res.writeHead(response.status, { ...headers, 'cache-control': 'no-cache' });
        const usage = new StreamUsageTap(clientAskedForUsage(clientBody));
        try {
          for await (const chunk of response.body) {
            idle.touch();
            const events = usage.push(chunk);
            if (events) res.write(events);
          }
          res.end(usage.end());
          finish(response.status, model, attempts, this.estimateCost(model, route.cluster, usage.totalTokens));
        } catch (err) {
          // Headers are out: the stream can only end early, with an error event the client can read.
          const reason = stop.signal.aborted ? stopReason(stop.signal) : null;
          const message = reason ? STOP_MESSAGES[reason] : `stream interrupted: ${errorMessage(err)}`;
          // The client saw 200 headers, but the upstream broke the answer: logged and counted as the 502 it is.
          if (!reason) this.logger(`[gateway] stream from ${model} interrupted after its headers: ${errorMessage(err)}`);
          finish(reason ? stoppedStatus(reason) : 502, model, attempts, 0, message);
          if (reason === 'client_closed') return void res.destroy();
          res.end(`data: ${JSON.stringify({ error: { message, type: reason ? 'timeout' : 'upstream_error', code: reason ?? 'stream_interrupted' } })}\n\n`);
        }
        return;
      }
      let text: string;
      try {
        text = await readText(response, idle);
      } catch (err) {
        if (!stop.signal.aborted) throw err;
        const reason = stopReason(stop.signal);
        finish(stoppedStatus(reason), model, attempts, 0, STOP_MESSAGES[reason]);
        if (reason !== 'client_closed') refuse(new HttpError(504, 'timeout', `${STOP_MESSAGES[reason]} while the answer was being read`, 'timeout'));
        return;
      }
      res.writeHead(response.status, headers);
      res.end(text);
      finish(response.status, model, attempts, response.ok ? this.estimateCost(model, route.cluster, totalTokens(text)) : 0);
    } finally {
      idle.stop();
    }
  }

  /** The models to try in order, and the cluster and table that chose them. */
  private async route(body: ChatBody, constraints: RoutingConstraints): Promise<Route> {
    if (body.model !== AUTO_MODEL) {
      if (!this.upstreams.has(body.model)) {
        throw new HttpError(404, 'invalid_request_error', `model '${body.model}' is not served here; use 'auto' or one of: ${Object.keys(this.config.upstreams).join(', ')}`, 'model_not_found');
      }
      return { models: [body.model], cluster: null, similarity: null, table: null, reason: 'requested_model' };
    }
    const table = this.liveTable.current;
    if (!table) throw new HttpError(503, 'server_error', 'no routing table is published yet: publish one (llmloop routing-table publish) or name a model', 'no_routing_table');
    const { cluster, similarity, predicted } = await this.clusterOf(table, lastUserText(body.messages));
    // A request's own constraints re-rank the cluster's measured candidates (with the per-prompt router's
    // predicted quality when the table has a router and it answered); the table's defaults fill the gaps.
    const candidates = predicted ? withPredictedQuality(cluster.candidates, predicted) : cluster.candidates;
    const selection = rankCandidates(candidates, { ...table.defaults, ...constraints });
    return { models: selection?.ranked ?? [], cluster, similarity, table, reason: selection?.reason ?? 'no_candidates' };
  }

  /**
   * The nearest cluster of the prompt and, when the table carries a router, each model's predicted
   * quality; the cluster means when the router cannot answer, and the largest cluster when the
   * embedding server does not answer at all.
   */
  private async clusterOf(table: RoutingTable, text: string): Promise<{ cluster: RoutingCluster; similarity: number | null; predicted: Map<string, number> | null }> {
    try {
      const { vector, predicted } = await this.embeddings.embedAndPredict(text, table.router?.artifact.sha256).catch(async (err: unknown) => {
        if (!table.router) throw err;
        this.metrics.upstreamErrors.inc({ model: 'router', kind: err instanceof Error ? err.name : 'error' });
        this.logger(`[gateway] router ${table.router.name} did not answer, routing by cluster means: ${errorMessage(err)}`);
        return { vector: await this.embeddings.embed(text), predicted: null };
      });
      const cluster = assignCluster(table, vector);
      return { cluster, similarity: cosineSimilarity(vector, cluster.centroid), predicted };
    } catch (err) {
      this.metrics.upstreamErrors.inc({ model: 'embedding', kind: err instanceof Error ? err.name : 'error' });
      this.logger(`[gateway] embedding failed, routing by the largest cluster: ${errorMessage(err)}`);
      return { cluster: table.clusters.reduce((a, b) => (b.size > a.size ? b : a)), similarity: null, predicted: null };
    }
  }

  /** Usage x the upstream's price when both are known, else the perf index's cost per request. */
  private estimateCost(model: string, cluster: RoutingCluster | null, tokens: number | undefined): number {
    const price = this.config.upstreams[model]?.cost_per_1k_tokens;
    if (price !== undefined && tokens !== undefined) return (tokens / 1000) * price;
    return cluster?.candidates.find((c) => c.model_id === model)?.cost_per_request ?? 0;
  }

  private feedback(body: unknown, res: http.ServerResponse): void {
    const problems = schemaProblems('GatewayFeedbackBody', body);
    if (problems.length) throw new HttpError(400, 'invalid_request_error', `invalid feedback (schemas/feedback.schema.json GatewayFeedbackBody): ${problems.join('; ')}`);
    const record = body as GatewayFeedbackBody;
    this.log.append({ type: 'feedback', ts: new Date().toISOString(), request_id: record.request_id, score: record.score, ...(record.comment ? { comment: record.comment } : {}) });
    sendJson(res, 202, { accepted: true });
  }
}

/** A non-streamed answer's text, read under the idle timer like a stream (an upstream can stall after its headers either way). */
async function readText(response: Response, idle: IdleTimer): Promise<string> {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body) {
    idle.touch();
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

const OVERRIDE_HEADERS: Record<string, keyof RoutingConstraints> = {
  'x-llmloop-tolerance': 'tolerance',
  'x-llmloop-latency-ms': 'latency_ms',
  'x-llmloop-cost-limit': 'cost_limit',
};

/** Per-request constraints: the body's `llmloop` object, then the x-llmloop-* headers over it. */
function constraintOverrides(req: http.IncomingMessage, body: ChatBody): RoutingConstraints {
  if (body.llmloop !== undefined && (typeof body.llmloop !== 'object' || body.llmloop === null || Array.isArray(body.llmloop))) {
    throw new HttpError(400, 'invalid_request_error', "'llmloop' must be an object of routing constraints");
  }
  const overrides: Record<string, unknown> = { ...(body.llmloop as object | undefined) };
  for (const [header, field] of Object.entries(OVERRIDE_HEADERS)) {
    const value = req.headers[header];
    if (typeof value === 'string') overrides[field] = value.trim() === '' ? NaN : Number(value);
  }
  const problems = schemaProblems('RoutingConstraints', overrides);
  if (problems.length || Object.values(overrides).some((v) => typeof v === 'number' && !Number.isFinite(v))) {
    throw new HttpError(400, 'invalid_request_error', `invalid routing constraints ${JSON.stringify(overrides)}: ${problems.join('; ') || 'not a number'}`, 'invalid_constraints');
  }
  return overrides as RoutingConstraints;
}

function totalTokens(responseText: string): number | undefined {
  try {
    const tokens = (JSON.parse(responseText) as { usage?: { total_tokens?: unknown } }).usage?.total_tokens;
    return typeof tokens === 'number' ? tokens : undefined;
  } catch {
    return undefined;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads a key from stdin and prints the `sha256:<hex>` entry that stores it in the gateway config. */
async function printKeyDigest(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const key = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (key.length < 8) throw new Error('a key has at least 8 characters (e.g. openssl rand -hex 32)');
  console.log(hashApiKey(key));
}

if (require.main === module) {
  const { values } = parseArgs({ options: { config: { type: 'string' }, 'hash-key': { type: 'boolean' } } });
  if (values['hash-key']) {
    printKeyDigest().catch((err: unknown) => {
      console.error(`gateway: ${errorMessage(err)}`);
      process.exit(2);
    });
  } else if (!values.config) {
    console.error('usage: node dist/router/gateway.js --config FILE   (see infra/gateway.example.json)\n       node dist/router/gateway.js --hash-key < keyfile   (prints the sha256: entry for api_keys)');
    process.exit(2);
  } else {
    const file = values.config;
    Promise.resolve()
      .then(() => startGateway(loadGatewayConfig(file)))
      .then(
        (gateway) => {
          console.log(JSON.stringify({ listening: gateway.url, metrics: gateway.metricsUrl, table_version: gateway.liveTable.current?.version ?? null }));
          const shutdown = () => void gateway.close().then(() => process.exit(0));
          process.once('SIGTERM', shutdown);
          process.once('SIGINT', shutdown);
          process.on('SIGHUP', () => gateway.reopenLog());
        },
        (err: unknown) => {
          console.error(`gateway: ${errorMessage(err)}`);
          process.exit(1);
        },
      );
  }
}
