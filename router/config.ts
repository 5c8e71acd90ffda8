/** Gateway configuration: the GatewayConfig JSON file with every default filled in. */
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalog } from '../core/catalog';
import { loadConfig } from '../core/config';
import { defaultRequestLogPath } from '../core/request-log';
import { validate } from '../core/schemas';
import type { GatewayConfig, GatewayUpstream, ModelCatalog, RoutingConstraints } from '../schemas/generated/types';

export interface ResolvedGatewayConfig {
  host: string;
  port: number;
  apiKeys: ReadonlySet<string>;
  dataDir: string;
  requestLog: string;
  storePrompts: boolean;
  tablePollMs: number;
  embeddings: { baseUrl: string; model: string; timeoutMs: number };
  upstreams: Readonly<Record<string, GatewayUpstream>>;
  defaults: RoutingConstraints;
  upstreamTimeoutMs: number;
  retries: { attempts: number; backoffMs: number; maxBackoffMs: number };
  cooldown: { failuresPerMinute: number; durationMs: number };
}

export function resolveGatewayConfig(raw: unknown, baseDir = process.cwd()): ResolvedGatewayConfig {
  const config: GatewayConfig = validate('GatewayConfig', raw);
  const dataDir = config.data_dir ? path.resolve(baseDir, config.data_dir) : loadConfig().dataDir;
  return {
    host: config.host ?? '127.0.0.1',
    port: config.port ?? 8080,
    apiKeys: new Set(config.api_keys ?? []),
    dataDir,
    requestLog: config.request_log ? path.resolve(baseDir, config.request_log) : defaultRequestLogPath(dataDir),
    storePrompts: config.store_prompts ?? true,
    tablePollMs: config.table_poll_ms ?? 1000,
    embeddings: { baseUrl: config.embeddings.base_url.replace(/\/+$/, ''), model: config.embeddings.model ?? 'default', timeoutMs: config.embeddings.timeout_ms ?? 5000 },
    upstreams: { ...(config.catalog_upstreams === false ? {} : catalogUpstreams(loadCatalog())), ...config.upstreams },
    defaults: config.defaults ?? {},
    upstreamTimeoutMs: config.upstream_timeout_ms ?? 60_000,
    retries: { attempts: config.retries?.attempts ?? 2, backoffMs: config.retries?.backoff_ms ?? 100, maxBackoffMs: config.retries?.max_backoff_ms ?? 2000 },
    cooldown: { failuresPerMinute: config.cooldown?.failures_per_minute ?? 3, durationMs: config.cooldown?.duration_ms ?? 30_000 },
  };
}

/** Catalog models (config/models.json) that declare an OpenAI-compatible endpoint, priced as the catalog says. */
export function catalogUpstreams(catalog: ModelCatalog): Record<string, GatewayUpstream> {
  return Object.fromEntries(catalog.models.flatMap((m) => (m.serving.openai_base_url ? [[m.id, { base_url: m.serving.openai_base_url, cost_per_1k_tokens: m.cost_per_1k_tokens }]] : [])));
}

/** Reads the file; relative paths in it are relative to the file. */
export function loadGatewayConfig(file: string): ResolvedGatewayConfig {
  return resolveGatewayConfig(JSON.parse(fs.readFileSync(file, 'utf8')), path.dirname(path.resolve(file)));
}
