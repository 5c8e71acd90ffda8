/**
 * infra/docker-compose.yml: the production topology. No container engine runs here, so this checks
 * what can be checked without one: a Compose CLI's own validation and interpolation (`docker compose
 * config`, or the standalone `docker-compose` from Debian when the plugin is absent), and the parts
 * of the topology llmloop depends on, read structurally.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pythonExecutable, REPO_ROOT, gpuTaskQueue } from '../../core/config';
import { schemaProblems } from '../../core/schemas';

const INFRA = path.join(REPO_ROOT, 'infra');
const COMPOSE_FILE = path.join(INFRA, 'docker-compose.yml');
const ENV_EXAMPLE = path.join(INFRA, '.env.example');

interface ComposeService {
  image?: string;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
  ports?: string[];
  restart?: string;
  healthcheck?: unknown;
  user?: string;
  cap_drop?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** PyYAML from the project venv reads the file (anchors and merge keys included); no YAML dependency in Node. */
function readYaml<T>(file: string): T {
  const script = 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding="utf-8"))))';
  return JSON.parse(execFileSync(pythonExecutable(), ['-c', script, file], { encoding: 'utf8' })) as T;
}

/** `docker compose` (plugin) or `docker-compose` (standalone), whichever this host has. */
function composeCommand(): string[] | undefined {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(candidate[0]!, [...candidate.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function compose(command: string[], args: string[], envFile: string) {
  return spawnSync(command[0]!, [...command.slice(1), '-f', COMPOSE_FILE, '--env-file', envFile, ...args], { encoding: 'utf8', cwd: INFRA });
}

const composeFile = readYaml<ComposeFile>(COMPOSE_FILE);
const services = composeFile.services;
const catalog = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'config', 'models.json'), 'utf8')) as { gpu_classes: { id: string }[] };

test('runs the whole topology: Temporal on PostgreSQL with its UI, Qdrant, MinIO, vLLM, workers, gateway, Prometheus', () => {
  for (const name of ['postgresql', 'temporal', 'temporal-ui', 'qdrant', 'minio', 'vllm', 'node-worker', 'embeddings', 'gateway', 'prometheus']) {
    expect(services).toHaveProperty(name);
  }
  expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(services.vllm!.command).toEqual(expect.arrayContaining(['--enable-lora']));
  expect(services.vllm!.profiles).toEqual(['vllm']);
});

test('each Python worker serves its GPU class queue under its own profile, with the shared Temporal and codec settings', () => {
  const pythonWorkers = Object.entries(services).filter(([name]) => name.startsWith('python-worker-'));
  expect(pythonWorkers.length).toBeGreaterThanOrEqual(2);
  const knownClasses = new Set(catalog.gpu_classes.map((c) => c.id));
  for (const [name, service] of pythonWorkers) {
    const gpuClass = name.replace('python-worker-', '');
    expect(knownClasses.has(gpuClass)).toBe(true);
    expect(service.profiles).toEqual([gpuClass === 'cpu' ? 'cpu' : `gpu-${gpuClass}`]);
    expect(service.command).toEqual(expect.arrayContaining(['trainers.worker', '--queue', gpuTaskQueue(gpuClass)]));
    expect(service.environment).toMatchObject({ TEMPORAL_ADDRESS: '${TEMPORAL_ADDRESS:-temporal:7233}', LLMLOOP_GPU_CLASS: gpuClass });
    expect(service.environment).toHaveProperty('LLMLOOP_CODEC_KEYS');
  }
  expect(services['node-worker']!.environment).toHaveProperty('LLMLOOP_CODEC_KEYS');
});

test('every depends_on names a service, and every variable the file uses is in .env.example', () => {
  for (const service of Object.values(services)) {
    for (const dependency of Object.keys(service.depends_on ?? {})) expect(services).toHaveProperty(dependency);
  }
  const used = new Set([...fs.readFileSync(COMPOSE_FILE, 'utf8').matchAll(/(?<!\$)\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
  const documented = new Set([...fs.readFileSync(ENV_EXAMPLE, 'utf8').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
  expect([...used].filter((name) => !documented.has(name))).toEqual([]);
});

test('the gateway config example is a valid GatewayConfig and Prometheus scrapes services that exist', () => {
  const gateway = JSON.parse(fs.readFileSync(path.join(INFRA, 'gateway.example.json'), 'utf8'));
  expect(schemaProblems('GatewayConfig', gateway)).toEqual([]);
  type Job = { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] };
  const prometheus = readYaml<{ scrape_configs: Job[] }>(path.join(INFRA, 'prometheus.yml'));
  const hosts = prometheus.scrape_configs.flatMap((job) => [
    ...(job.static_configs ?? []).flatMap((c) => c.targets.map((t) => t.split(':')[0]!)),
    ...(job.dns_sd_configs ?? []).flatMap((c) => c.names),
  ]);
  for (const host of hosts) expect(host === 'localhost' || host in services).toBe(true);
  // Every worker service is scraped on the port its LLMLOOP_METRICS_PORT names.
  const workers = prometheus.scrape_configs.find((job) => job.job_name === 'llmloop-workers')!.dns_sd_configs![0]!;
  for (const name of Object.keys(services).filter((n) => n === 'node-worker' || n.startsWith('python-worker-'))) {
    expect(workers.names).toContain(name);
    expect(String(services[name]!.environment?.LLMLOOP_METRICS_PORT)).toBe(String(workers.port));
  }
});

describe('hardening (issue 15, docs/deploy.md Security)', () => {
  const envExample = Object.fromEntries([...fs.readFileSync(ENV_EXAMPLE, 'utf8').matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));

  test('no port is published on all interfaces: 127.0.0.1, or a *_BIND variable that defaults to it and is not 0.0.0.0 in .env.example', () => {
    const published = Object.entries(services).flatMap(([name, service]) => (service.ports ?? []).map((port) => ({ name, port })));
    expect(published.length).toBeGreaterThan(5);
    for (const { name, port } of published) {
      const bind = /^\$\{([A-Z_]+_BIND):-127\.0\.0\.1\}:/.exec(port);
      expect({ name, port, local: port.startsWith('127.0.0.1:') || Boolean(bind) }).toEqual({ name, port, local: true });
      if (bind) expect({ name, variable: bind[1], value: envExample[bind[1]!] }).toEqual({ name, variable: bind[1], value: '127.0.0.1' });
    }
  });

  test('secrets-check holds every secret, runs before each service that uses one, and refuses the placeholders by name', () => {
    const check = services['secrets-check']!;
    // Required passwords and keys; an S3 access key id is a user name, not a secret.
    const required = [...fs.readFileSync(COMPOSE_FILE, 'utf8').matchAll(/\$\{([A-Z0-9_]*(?:PASSWORD|SECRET|_KEYS?)):\?/g)].map((m) => m[1]!);
    const secrets = [...new Set(required)].filter((name) => !name.endsWith('_ACCESS_KEY'));
    const checked = Object.values(check.environment ?? {}).join(' ');
    expect(secrets.filter((name) => !checked.includes(`\${${name}:`))).toEqual([]);
    for (const name of ['postgresql', 'minio', 'qdrant', 'vllm']) expect(services[name]!.depends_on).toHaveProperty('secrets-check');
    // The check itself, run by sh as the container would: .env.example as shipped fails, filled-in values pass.
    const script = check.command![0]!.replaceAll('$$', '$');
    const run = (values: Record<string, string>) => spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, ...values }, encoding: 'utf8' });
    const shipped = run(Object.fromEntries(secrets.map((name) => [name, envExample[name] ?? ''])));
    expect(shipped.status).toBe(1);
    for (const name of ['POSTGRES_PASSWORD', 'LLMLOOP_CODEC_KEYS', 'QDRANT_API_KEY']) expect(shipped.stderr).toContain(name);
    expect(run(Object.fromEntries(secrets.map((name) => [name, `filled-${name.length}`]))).status).toBe(0);
  });

  test('each service gets only its own secrets', () => {
    const workerOnly = ['LLMLOOP_TEACHER_API_KEY', 'QDRANT_API_KEY', 'TEMPORAL_API_KEY'];
    const storeOnly = ['AWS_SECRET_ACCESS_KEY', 'LLMLOOP_CODEC_KEYS'];
    for (const name of [...workerOnly, ...storeOnly]) expect(services.embeddings!.environment).not.toHaveProperty(name);
    for (const name of workerOnly) expect(services.gateway!.environment).not.toHaveProperty(name);
    for (const name of [...workerOnly, ...storeOnly]) expect(services['node-worker']!.environment).toHaveProperty(name);
    expect(services.embeddings!.environment).toHaveProperty('LLMLOOP_EMBEDDING_API_KEY');
  });

  test('every long-running service has a healthcheck (workers: their metrics listener); llmloop containers run unprivileged; Temporal schemas come from a one-shot job', () => {
    const longRunning = Object.entries(services).filter(([, service]) => service.restart === 'unless-stopped');
    expect(longRunning.length).toBeGreaterThan(10);
    expect(longRunning.filter(([, service]) => !service.healthcheck).map(([name]) => name)).toEqual([]);
    const llmloop = Object.entries(services).filter(([, service]) => service.image?.startsWith('${LLMLOOP_'));
    expect(llmloop.length).toBeGreaterThan(3);
    for (const [name, service] of llmloop) expect({ name, user: service.user, caps: service.cap_drop }).toEqual({ name, user: '10001:10001', caps: ['ALL'] });
    expect(Object.values(services).some((service) => service.image?.includes('auto-setup'))).toBe(false);
    expect(services.temporal!.depends_on).toHaveProperty('temporal-schema');
    expect(services['temporal-schema']!.command!.join(' ')).toContain('update-schema');
  });
});

const composeCli = composeCommand();
if (!composeCli) console.warn('infra test: no Compose CLI here (docker compose plugin or docker-compose); only the structural checks ran');

(composeCli ? test : test.skip)('the Compose CLI validates and interpolates the file; missing secrets are refused by name', () => {
  const valid = compose(composeCli!, ['config', '-q'], ENV_EXAMPLE);
  expect(valid.stderr).toBe('');
  expect(valid.status).toBe(0);

  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-infra-'));
  const emptyEnv = path.join(folder, 'empty.env');
  fs.writeFileSync(emptyEnv, '');
  const missing = compose(composeCli!, ['config', '-q'], emptyEnv);
  fs.rmSync(folder, { recursive: true });
  expect(missing.status).not.toBe(0);
  expect(missing.stderr).toMatch(/LLMLOOP_CODEC_KEYS|POSTGRES_PASSWORD/);
});
