/**
 * A real llama.cpp model server (serving/model-server.ts, built in dist/) for tests of any stage:
 * SmolLM2-135M-Instruct unless told otherwise. It runs as its own process, so tests talk HTTP to it
 * exactly as the dataset teacher and the gateway do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { freePort } from '../../core/devserver';
import { startService } from '../../core/services';

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
  /** The last of what the server printed, for failure messages. */
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

  const base = `http://127.0.0.1:${port}`;
  const service = await startService({
    name: `model-server ${modelId}`,
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    readyWhen: { url: `${base}/health` },
    ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
  return { url: `${base}/v1`, modelId, output: service.output, stop: () => service.stop() };
}
