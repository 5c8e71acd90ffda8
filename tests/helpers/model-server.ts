/**
 * A real llama.cpp model server (serving/model-server.ts, built in dist/) for tests of any stage:
 * SmolLM2-135M-Instruct unless told otherwise. It runs as its own process, so tests talk HTTP to it
 * exactly as the dataset teacher and the gateway do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { startModelServerProcess, type ModelServerOptions } from '../../core/stack';

/** modelId defaults to `smollm2-135m`. */
export type StartModelServerOptions = Omit<ModelServerOptions, 'modelId' | 'logDir'> & { modelId?: string };

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
  const { modelId = 'smollm2-135m', ...rest } = options;
  const { service, url } = await startModelServerProcess({ modelId, ...rest });
  return { url, modelId, output: service.output, stop: () => service.stop() };
}
