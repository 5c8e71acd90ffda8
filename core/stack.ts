/**
 * The local stack the demo and chaos checks run: a Temporal dev server (unless TEMPORAL_ADDRESS
 * names one), the Node worker and a Python worker, as separate processes like in production.
 */
import path from 'node:path';
import { loadConfig, pythonExecutable, REPO_ROOT, gpuTaskQueue } from './config';
import { startDevServer, type DevServer } from './devserver';
import { startService, stopAll, type Service } from './services';

export interface LocalStack {
  address: string;
  uiUrl: string | undefined;
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

export function startNodeWorkerProcess(env: NodeJS.ProcessEnv, logDir: string): Promise<Service> {
  return startService({
    name: 'node-worker',
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'dist', 'workers', 'node-worker.js')],
    env,
    readyWhen: /\[node-worker\] serving/,
    logFile: path.join(logDir, 'node-worker.log'),
  });
}

export function startPythonWorkerProcess(env: NodeJS.ProcessEnv, logDir: string, gpuClass: string): Promise<Service> {
  return startService({
    name: 'python-worker',
    command: pythonExecutable(),
    args: ['-m', 'trainers.worker', '--queue', gpuTaskQueue(gpuClass)],
    cwd: REPO_ROOT,
    env,
    readyWhen: /\[python-worker\] serving/,
    logFile: path.join(logDir, 'python-worker.log'),
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config = loadConfig();
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
    services.push(await startPythonWorkerProcess(env, logDir, options.gpuClass ?? config.gpuClass));
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl: server?.uiUrl, services, env, logDir, stop };
}
