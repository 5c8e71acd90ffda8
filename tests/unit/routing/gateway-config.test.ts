import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../../core/config';
import { SchemaValidationError } from '../../../core/schemas';
import { loadGatewayConfig, resolveGatewayConfig } from '../../../router/config';
import { hashApiKey, KeyLimits, KeyRing } from '../../../router/keys';
import type { ModelCatalog } from '../../../schemas/generated/types';

describe('gateway configuration', () => {
  const minimal = { embeddings: { base_url: 'http://127.0.0.1:8090/v1/' }, upstreams: { local: { base_url: 'http://127.0.0.1:8101/v1' } }, catalog_upstreams: false };

  it('fills every default and trims the embeddings URL', () => {
    const config = resolveGatewayConfig(minimal, '/etc/llmloop');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      storePrompts: false,
      promptTtlMs: 30 * 24 * 3600_000,
      metrics: null,
      requestTimeoutMs: 300_000,
      streamIdleTimeoutMs: 30_000,
      drainTimeoutMs: 30_000,
      tablePollMs: 1000,
      embeddings: { baseUrl: 'http://127.0.0.1:8090/v1', model: 'default', timeoutMs: 5000 },
      retries: { attempts: 2, backoffMs: 100, maxBackoffMs: 2000 },
      cooldown: { failuresPerMinute: 3, durationMs: 30000 },
      upstreams: minimal.upstreams,
    });
    expect(config.apiKeys).toHaveLength(0);
  });

  it('takes the embedding server key from the environment, never from the config file', () => {
    expect(resolveGatewayConfig(minimal, '/etc/llmloop', { LLMLOOP_EMBEDDING_API_KEY: 'sk-embed' }).embeddings.apiKey).toBe('sk-embed');
    expect(resolveGatewayConfig(minimal, '/etc/llmloop', {}).embeddings).not.toHaveProperty('apiKey');
  });

  it('resolves data_dir and request_log relative to the config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-gateway-config-'));
    const file = path.join(dir, 'gateway.json');
    fs.writeFileSync(file, JSON.stringify({ ...minimal, data_dir: 'data', request_log: 'logs/requests.jsonl' }));
    const config = loadGatewayConfig(file);
    expect(config.dataDir).toBe(path.join(dir, 'data'));
    expect(config.requestLog).toBe(path.join(dir, 'logs', 'requests.jsonl'));
    fs.rmSync(dir, { recursive: true });
  });

  it('serves catalog models that declare an endpoint, and lets the config override them', () => {
    const catalog = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'config', 'models.json'), 'utf8')) as ModelCatalog;
    const [served, overridden] = catalog.models;
    served!.serving = { openai_base_url: 'http://vllm:8000/v1' };
    overridden!.serving = { openai_base_url: 'http://elsewhere:8000/v1' };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-catalog-'));
    const catalogFile = path.join(dir, 'models.json');
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    const previous = process.env.LLMLOOP_MODEL_CATALOG;
    process.env.LLMLOOP_MODEL_CATALOG = catalogFile;
    try {
      const config = resolveGatewayConfig({ ...minimal, catalog_upstreams: true, upstreams: { [overridden!.id]: { base_url: 'http://override:1/v1' } } });
      expect(config.upstreams[served!.id]).toEqual({ base_url: 'http://vllm:8000/v1', cost_per_1k_tokens: served!.cost_per_1k_tokens });
      expect(config.upstreams[overridden!.id]).toEqual({ base_url: 'http://override:1/v1' });
      expect(Object.keys(config.upstreams)).toHaveLength(2);
    } finally {
      process.env.LLMLOOP_MODEL_CATALOG = previous;
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('refuses a config that does not match its schema, naming the problem', () => {
    expect(() => resolveGatewayConfig({ upstreams: {} })).toThrow(SchemaValidationError);
    expect(() => resolveGatewayConfig({ ...minimal, retries: { attempts: 0 } })).toThrow(/attempts/);
  });

  it('keeps key digests only, names every key, and lists the plaintext ones', () => {
    const digest = hashApiKey('sk-team-a-secret');
    const config = resolveGatewayConfig({ ...minimal, api_keys: [digest, 'sk-plain-key-0001', { name: 'team-b', key: hashApiKey('sk-team-b-secret'), rpm_limit: 60 }] });
    expect(config.apiKeys.map((k) => k.name)).toEqual([`key-${digest.slice(7, 15)}`, expect.stringMatching(/^key-[0-9a-f]{8}$/), 'team-b']);
    expect(config.plaintextKeys).toEqual([config.apiKeys[1]!.name]);
    expect(JSON.stringify(config)).not.toContain('sk-plain-key-0001');
    const ring = new KeyRing(config.apiKeys);
    expect(ring.identify('sk-team-a-secret')?.name).toBe(config.apiKeys[0]!.name);
    expect(ring.identify('sk-plain-key-0001')?.name).toBe(config.apiKeys[1]!.name);
    expect(ring.identify('sk-team-b-secret')).toMatchObject({ name: 'team-b', rpmLimit: 60 });
    expect(ring.identify(digest)).toBeNull();
    expect(() => resolveGatewayConfig({ ...minimal, api_keys: [{ name: 'x', key: hashApiKey('aaaaaaaa') }, { name: 'x', key: hashApiKey('bbbbbbbb') }] })).toThrow(/'x' is used twice/);
  });

  it('refills a key\'s request bucket evenly and its budget each period', () => {
    let now = 0;
    const limits = new KeyLimits(() => now);
    const key = { name: 'k', digest: Buffer.alloc(32), rpmLimit: 2, maxBudget: 1, budgetPeriodMs: 60_000 };
    expect(limits.admit(key)).toEqual({ allowed: true });
    expect(limits.admit(key)).toEqual({ allowed: true });
    expect(limits.admit(key)).toEqual({ allowed: false, reason: 'rate_limit', retryAfterS: 30 });
    now = 30_000;
    expect(limits.admit(key)).toEqual({ allowed: true });
    limits.charge(key, 1.5);
    expect(limits.admit(key)).toEqual({ allowed: false, reason: 'budget', retryAfterS: 30 });
    now = 60_000;
    expect(limits.admit(key)).toEqual({ allowed: true });
  });
});
