/**
 * A real llama.cpp model server (serving/model-server.ts, built in dist/) for tests of any stage:
 * SmolLM2-135M-Instruct unless told otherwise. It runs as its own process, so tests talk HTTP to it
 * exactly as the dataset teacher and the gateway do.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { freePort } from '../../core/devserver';

export interface StartModelServerOptions {
  modelPath?: string;
  /** Defaults to `smollm2-135m`. */
  modelId?: string;
  parallel?: number;
  contextSize?: number;
  threads?: number;
  maxQueue?: number;
  readyTimeoutMs?: number;
}

export interface RunningModelServer {
  /** Base URL ending in /v1, ready for an OpenAI client's `baseURL`. */
  url: string;
  modelId: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const SERVER_SCRIPT = path.join(REPO_ROOT, 'dist', 'serving', 'model-server.js');

export async function startModelServer(options: StartModelServerOptions = {}): Promise<RunningModelServer> {
  if (!fs.existsSync(SERVER_SCRIPT)) throw new Error(`${SERVER_SCRIPT} is missing: build first (npx tsc -p tsconfig.json)`);
  const modelId = options.modelId ?? 'smollm2-135m';
  const port = await freePort();
  const args = [SERVER_SCRIPT, '--model-id', modelId, '--port', String(port)];
  const flags: Array<[string, string | number | undefined]> = [
    ['--model-path', options.modelPath],
    ['--parallel', options.parallel],
    ['--ctx', options.contextSize],
    ['--threads', options.threads],
    ['--max-queue', options.maxQueue],
  ];
  for (const [flag, value] of flags) if (value !== undefined) args.push(flag, String(value));

  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`model server exited with code ${child.exitCode} before it was ready:\n${log}`);
    try {
      const response = await fetch(`${base}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`model server not ready at ${base} in time:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url: `${base}/v1`, modelId, output: () => log, stop };
}
