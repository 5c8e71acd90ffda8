/** Gateway configuration: the GatewayConfig JSON file with every default filled in. */
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalog } from '../core/catalog';
import { loadConfig } from '../core/config';
import { TypedError } from '../core/errors';
import { defaultRequestLogPath } from '../core/request-log';
import { validate } from '../core/schemas';
import type { GatewayApiKey, GatewayConfig, GatewayUpstream, ModelCatalog, RoutingConstraints } from '../schemas/generated/types';
import { digestOf, hashApiKey, isKeyDigest, type ApiKey } from './keys';

export interface ResolvedGatewayConfig {
  host: string;
  port: number;
  apiKeys: readonly ApiKey[];
  /** Names of keys configured in plaintext (deprecated: the gateway warns about each at start). */
  plaintextKeys: readonly string[];
  /** A separate /metrics listener; null: /metrics is on the main port behind an API key. */
  metrics: { host: string; port: number } | null;
  dataDir: string;
  requestLog: string;
  requestLogRotation: { maxBytes?: number; intervalMs?: number };
  storePrompts: boolean;
  promptTtlMs: number;
  tablePollMs: number;
  /** apiKey: from $LLMLOOP_EMBEDDING_API_KEY, the variable the embedding server reads its key from (kept out of the config file). */
  embeddings: { baseUrl: string; model: string; timeoutMs: number; apiKey?: string };
  upstreams: Readonly<Record<string, GatewayUpstream>>;
  defaults: RoutingConstraints;
  upstreamTimeoutMs: number;
  requestTimeoutMs: number;
  streamIdleTimeoutMs: number;
  drainTimeoutMs: number;
  retries: { attempts: number; backoffMs: number; maxBackoffMs: number };
  cooldown: { failuresPerMinute: number; durationMs: number };
}

export function resolveGatewayConfig(raw: unknown, baseDir = process.cwd(), env: NodeJS.ProcessEnv = process.env): ResolvedGatewayConfig {
  const config: GatewayConfig = validate('GatewayConfig', raw);
  const keys = (config.api_keys ?? []).map(keyEntry).map(resolveKey);
  const names = keys.map((k) => k.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new TypedError('InvalidRequest', `gateway config: api key name '${repeated}' is used twice`);
  const dataDir = config.data_dir ? path.resolve(baseDir, config.data_dir) : loadConfig().dataDir;
  return {
    host: config.host ?? '127.0.0.1',
    port: config.port ?? 8080,
    apiKeys: keys,
    plaintextKeys: (config.api_keys ?? []).filter((entry) => typeof entry === 'string' && !isKeyDigest(entry)).map((entry) => keyEntry(entry).name),
    metrics: config.metrics?.port === undefined ? null : { host: config.metrics.host ?? '127.0.0.1', port: config.metrics.port },
    dataDir,
    requestLog: config.request_log ? path.resolve(baseDir, config.request_log) : defaultRequestLogPath(dataDir),
    requestLogRotation: { maxBytes: config.request_log_rotation?.max_bytes, intervalMs: config.request_log_rotation?.interval_ms },
    storePrompts: config.store_prompts ?? false,
    promptTtlMs: config.prompt_ttl_ms ?? 30 * 24 * 3600_000,
    tablePollMs: config.table_poll_ms ?? 1000,
    embeddings: { baseUrl: config.embeddings.base_url.replace(/\/+$/, ''), model: config.embeddings.model ?? 'default', timeoutMs: config.embeddings.timeout_ms ?? 5000, ...(env.LLMLOOP_EMBEDDING_API_KEY ? { apiKey: env.LLMLOOP_EMBEDDING_API_KEY } : {}) },
    upstreams: { ...(config.catalog_upstreams === false ? {} : catalogUpstreams(loadCatalog())), ...config.upstreams },
    defaults: config.defaults ?? {},
    upstreamTimeoutMs: config.upstream_timeout_ms ?? 60_000,
    requestTimeoutMs: config.request_timeout_ms ?? 300_000,
    streamIdleTimeoutMs: config.stream_idle_timeout_ms ?? 30_000,
    drainTimeoutMs: config.drain_timeout_ms ?? 30_000,
    retries: { attempts: config.retries?.attempts ?? 2, backoffMs: config.retries?.backoff_ms ?? 100, maxBackoffMs: config.retries?.max_backoff_ms ?? 2000 },
    cooldown: { failuresPerMinute: config.cooldown?.failures_per_minute ?? 3, durationMs: config.cooldown?.duration_ms ?? 30_000 },
  };
}

/** A bare string entry is an unnamed key without limits; its name is derived from its digest, so metrics never show the key. */
function keyEntry(entry: string | GatewayApiKey): GatewayApiKey {
  if (typeof entry !== 'string') return entry;
  const digest = isKeyDigest(entry) ? entry : hashApiKey(entry);
  return { name: `key-${digest.slice('sha256:'.length, 'sha256:'.length + 8)}`, key: entry };
}

function resolveKey(entry: GatewayApiKey): ApiKey {
  return { name: entry.name, digest: digestOf(entry.key), rpmLimit: entry.rpm_limit, maxBudget: entry.max_budget, budgetPeriodMs: entry.budget_period_ms };
}

/** Catalog models (config/models.json) that declare an OpenAI-compatible endpoint, priced as the catalog says. */
export function catalogUpstreams(catalog: ModelCatalog): Record<string, GatewayUpstream> {
  return Object.fromEntries(catalog.models.flatMap((m) => (m.serving.openai_base_url ? [[m.id, { base_url: m.serving.openai_base_url, cost_per_1k_tokens: m.cost_per_1k_tokens }]] : [])));
}

/** Reads the file; relative paths in it are relative to the file. */
export function loadGatewayConfig(file: string): ResolvedGatewayConfig {
  return resolveGatewayConfig(JSON.parse(fs.readFileSync(file, 'utf8')), path.dirname(path.resolve(file)));
}
