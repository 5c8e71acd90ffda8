/**
 * The routing gateway: an OpenAI-compatible endpoint that sends `model: "auto"` requests to the
 * cheapest good-enough model for the request's cluster, and concrete model ids straight through.
 *
 *   node dist/router/gateway.js --config FILE      (config: schemas/gateway-config.schema.json)
 *
 * POST /v1/chat/completions (streaming or not), GET /v1/models, POST /v1/feedback (user scores
 * for the request log), GET /metrics (Prometheus), GET /health.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '../core/artifacts';
import { lastUserText } from '../core/chat-messages';
import { cosineSimilarity } from '../core/cluster';
import { rankCandidates } from '../core/routing/select';
import { assignCluster } from '../core/routing/table';
import { schemaProblems } from '../core/schemas';
import type { RoutingCluster, RoutingConstraints, RoutingTable } from '../schemas/generated/types';
import { loadGatewayConfig, type ResolvedGatewayConfig } from './config';
import { CooldownTracker } from './cooldown';
import { EmbeddingClient } from './embedding-client';
import { LiveTable } from './live-table';
import { GatewayMetrics } from './metrics';
import { PromptStore } from './prompt-store';
import { clientAskedForUsage, StreamUsageTap, withUsageRequested } from './stream-usage';
import { RequestLog } from './request-log';
import { AllUpstreamsFailed, ClientClosedRequest, UpstreamCaller, type Attempt } from './upstream';

const MAX_BODY_BYTES = 1024 * 1024;
export const AUTO_MODEL = 'auto';

/** An OpenAI-style error the client sees: a status, a type and a reason, never a stack trace. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

interface ChatBody extends Record<string, unknown> {
  model: string;
  messages: { role: string; content: unknown }[];
  stream?: boolean;
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

export interface RunningGateway {
  /** Base URL ending in /v1. */
  url: string;
  liveTable: LiveTable;
  close(): Promise<void>;
}

/** Where the gateway reports table changes and failures (stderr unless told otherwise). */
export type GatewayLogger = (line: string) => void;

export async function startGateway(config: ResolvedGatewayConfig, logger: GatewayLogger = (line) => console.error(line)): Promise<RunningGateway> {
  const metrics = new GatewayMetrics();
  const log = new RequestLog(config.requestLog);
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
  const artifacts = new LocalArtifactStore(path.join(config.dataDir, 'artifacts'));
  const prompts = new PromptStore(config.storePrompts ? artifacts : null, (err) => logger(`[gateway] prompt not stored: ${errorMessage(err)}`));
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

  const handler = new GatewayHandler(config, liveTable, upstreams, metrics, log, prompts, logger);
  const server = http.createServer((req, res) => {
    handler.handle(req, res).catch((err: unknown) => {
      logger(`[gateway] unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) sendError(res, new HttpError(500, 'server_error', 'internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}/v1`,
    liveTable,
    async close() {
      liveTable.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.close();
    },
  };
}

class GatewayHandler {
  private readonly embeddings: EmbeddingClient;

  constructor(
    private readonly config: ResolvedGatewayConfig,
    private readonly liveTable: LiveTable,
    private readonly upstreams: UpstreamCaller,
    private readonly metrics: GatewayMetrics,
    private readonly log: RequestLog,
    private readonly prompts: PromptStore,
    private readonly logger: GatewayLogger,
  ) {
    this.embeddings = new EmbeddingClient(config.embeddings);
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://gateway').pathname.replace(/\/+$/, '');
    const endpoint = `${req.method} ${pathname}`;
    try {
      if (endpoint === 'GET /health') return sendJson(res, 200, { status: 'ok', table_version: this.liveTable.current?.version ?? null });
      if (endpoint === 'GET /metrics') {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
        return;
      }
      if (!pathname.startsWith('/v1/')) throw new HttpError(404, 'invalid_request_error', `no route ${endpoint}`, 'unknown_url');
      this.authenticate(req);
      switch (endpoint) {
        case 'GET /v1/models':
          return sendJson(res, 200, { object: 'list', data: [AUTO_MODEL, ...Object.keys(this.config.upstreams)].map((id) => ({ id, object: 'model', created: 0, owned_by: 'llmloop' })) });
        case 'POST /v1/chat/completions':
          return await this.chatCompletion(req, res);
        case 'POST /v1/feedback':
          return this.feedback(await readJsonBody(req), res);
        default:
          throw new HttpError(404, 'invalid_request_error', `no route ${endpoint}`, 'unknown_url');
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      // Refused before any upstream was asked (answered requests are counted as they finish).
      if (endpoint === 'POST /v1/chat/completions') this.metrics.requests.inc({ model: 'none', cluster: 'none', status: String(err.status) });
      sendError(res, err);
    }
  }

  private authenticate(req: http.IncomingMessage): void {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match || !this.config.apiKeys.has(match[1]!.trim())) {
      throw new HttpError(401, 'invalid_request_error', 'missing or invalid API key (Authorization: Bearer <key>)', 'invalid_api_key');
    }
  }

  private async chatCompletion(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = `req-${randomUUID()}`;
    const body = parseChatBody(await readJsonBody(req));
    const constraints = { ...this.config.defaults, ...constraintOverrides(req, body) };
    const route = await this.route(body, constraints);
    const { llmloop: _overrides, ...clientBody } = body;
    const forwarded = body.stream === true ? withUsageRequested(clientBody) : clientBody;

    // The log carries the prompt's hash only; with store_prompts the messages are kept in the
    // artifact store under that hash, so the feedback loop can turn them into training tasks.
    const promptRef = this.prompts.reference(body.messages);

    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    const finish = (status: number, model: string | null, attempts: Attempt[], cost: number, error?: string) => {
      const latencyMs = performance.now() - started;
      const cluster = route.cluster?.id ?? null;
      this.metrics.requests.inc({ model: model ?? 'none', cluster: cluster === null ? 'none' : String(cluster), status: String(status) });
      this.metrics.latency.observe({ model: model ?? 'none' }, latencyMs / 1000);
      if (model) this.metrics.estimatedCost.inc({ model }, cost);
      this.log.append({
        type: 'request',
        ts: new Date().toISOString(),
        request_id: requestId,
        prompt_sha256: promptRef.sha256,
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
    let answer;
    try {
      answer = await this.upstreams.call(route.models, forwarded, clientGone.signal);
    } catch (err) {
      if (err instanceof ClientClosedRequest) return finish(499, null, err.attempts, 0, err.message);
      if (!(err instanceof AllUpstreamsFailed)) throw err;
      finish(502, null, err.attempts, 0, err.message);
      for (const [name, value] of Object.entries(routingHeaders)) res.setHeader(name, value);
      return sendError(res, new HttpError(502, 'upstream_error', err.message, 'upstream_unavailable'));
    }
    const { model, response, attempts } = answer;
    const headers = {
      ...routingHeaders,
      'x-llmloop-model': model,
      'x-llmloop-attempts': String(attempts.length),
      'content-type': response.headers.get('content-type') ?? 'application/json',
    };

    if (body.stream === true && response.ok && response.body) {
      res.writeHead(response.status, { ...headers, 'cache-control': 'no-cache' });
      const usage = new StreamUsageTap(clientAskedForUsage(clientBody));
      try {
        for await (const chunk of response.body) {
          const events = usage.push(chunk);
          if (events) res.write(events);
        }
        res.end(usage.end());
        finish(response.status, model, attempts, this.estimateCost(model, route.cluster, usage.totalTokens));
      } catch (err) {
        // Headers are out: a broken upstream stream can only end the response early.
        finish(response.status, model, attempts, 0, `stream interrupted: ${errorMessage(err)}`);
        res.destroy();
      }
      return;
    }
    const text = await response.text();
    res.writeHead(response.status, headers);
    res.end(text);
    finish(response.status, model, attempts, response.ok ? this.estimateCost(model, route.cluster, totalTokens(text)) : 0);
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
    const { cluster, similarity } = await this.clusterOf(table, lastUserText(body.messages));
    // A request's own constraints re-rank the cluster's measured candidates; the table's defaults fill the gaps.
    const selection = rankCandidates(cluster.candidates, { ...table.defaults, ...constraints });
    return { models: selection?.ranked ?? [], cluster, similarity, table, reason: selection?.reason ?? 'no_candidates' };
  }

  /** The nearest cluster of the prompt; the largest cluster when the embedding server does not answer. */
  private async clusterOf(table: RoutingTable, text: string): Promise<{ cluster: RoutingCluster; similarity: number | null }> {
    try {
      const vector = await this.embeddings.embed(text);
      const cluster = assignCluster(table, vector);
      return { cluster, similarity: cosineSimilarity(vector, cluster.centroid) };
    } catch (err) {
      this.metrics.upstreamErrors.inc({ model: 'embedding', kind: err instanceof Error ? err.name : 'error' });
      this.logger(`[gateway] embedding failed, routing by the largest cluster: ${errorMessage(err)}`);
      return { cluster: table.clusters.reduce((a, b) => (b.size > a.size ? b : a)), similarity: null };
    }
  }

  /** Usage x the upstream's price when both are known, else the perf index's cost per request. */
  private estimateCost(model: string, cluster: RoutingCluster | null, tokens: number | undefined): number {
    const price = this.config.upstreams[model]?.cost_per_1k_tokens;
    if (price !== undefined && tokens !== undefined) return (tokens / 1000) * price;
    return cluster?.candidates.find((c) => c.model_id === model)?.cost_per_request ?? 0;
  }

  private feedback(body: unknown, res: http.ServerResponse): void {
    const record = body as { request_id?: unknown; score?: unknown; comment?: unknown };
    if (typeof record?.request_id !== 'string' || !record.request_id) throw new HttpError(400, 'invalid_request_error', "'request_id' (from the x-request-id response header) is required");
    if (typeof record.score !== 'number' || !(record.score >= 0 && record.score <= 1)) throw new HttpError(400, 'invalid_request_error', "'score' must be a number in [0, 1]");
    if (record.comment !== undefined && typeof record.comment !== 'string') throw new HttpError(400, 'invalid_request_error', "'comment' must be a string");
    this.log.append({ type: 'feedback', ts: new Date().toISOString(), request_id: record.request_id, score: record.score, ...(record.comment ? { comment: record.comment } : {}) });
    sendJson(res, 202, { accepted: true });
  }
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'invalid_request_error', `request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'invalid_request_error', `request body is not valid JSON: ${(err as Error).message}`, 'invalid_json');
  }
}

function parseChatBody(body: unknown): ChatBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_request_error', 'request body must be a JSON object');
  const { model, messages, stream } = body as Record<string, unknown>;
  if (typeof model !== 'string' || !model) throw new HttpError(400, 'invalid_request_error', `'model' is required: '${AUTO_MODEL}' to route, or a model id`);
  if (!Array.isArray(messages) || messages.length === 0) throw new HttpError(400, 'invalid_request_error', "'messages' must be a non-empty array");
  if (messages.some((m) => !m || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string')) {
    throw new HttpError(400, 'invalid_request_error', "every message needs a string 'role'");
  }
  if (stream !== undefined && typeof stream !== 'boolean') throw new HttpError(400, 'invalid_request_error', "'stream' must be a boolean");
  return body as ChatBody;
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

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { message: err.message, type: err.type, code: err.code } });
}

if (require.main === module) {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  if (!values.config) {
    console.error('usage: node dist/router/gateway.js --config FILE   (see config/gateway.example.json)');
    process.exit(2);
  }
  const file = values.config;
  Promise.resolve()
    .then(() => startGateway(loadGatewayConfig(file)))
    .then(
      (gateway) => {
        console.log(JSON.stringify({ listening: gateway.url, table_version: gateway.liveTable.current?.version ?? null }));
        const shutdown = () => void gateway.close().then(() => process.exit(0));
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      },
      (err: unknown) => {
        console.error(`gateway: ${errorMessage(err)}`);
        process.exit(1);
      },
    );
}
