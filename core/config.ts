import path from 'node:path';

/** Repository root, resolved from this file whether it runs from source (jest) or from dist/. */
export const REPO_ROOT = (() => {
  const here = __dirname;
  const parts = here.split(path.sep);
  const distIndex = parts.lastIndexOf('dist');
  return distIndex >= 0 ? parts.slice(0, distIndex).join(path.sep) : path.resolve(here, '..');
})();

export const TASK_QUEUE_CPU = 'llmloop-cpu';

/** Python workers serve `llmloop-gpu-<class>`; `cpu` is the class of hosts without a GPU. */
export function gpuTaskQueue(gpuClass: string): string {
  return `llmloop-gpu-${gpuClass}`;
}

export interface LlmloopConfig {
  /** host:port of the Temporal frontend; when set, nothing local is started. */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  /** Root of local state: artifacts, caches, dev-server database. */
  dataDir: string;
  /** GPU class this host's Python worker serves (`cpu` without a GPU). */
  gpuClass: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LlmloopConfig {
  return {
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    dataDir: path.resolve(env.LLMLOOP_DATA_DIR || path.join(REPO_ROOT, '.data')),
    gpuClass: env.LLMLOOP_GPU_CLASS || 'cpu',
  };
}

export function pythonExecutable(): string {
  return process.env.LLMLOOP_PYTHON || path.join(REPO_ROOT, '.venv', 'bin', 'python');
}

export function temporalExecutable(): string {
  return process.env.LLMLOOP_TEMPORAL_CLI || path.join(REPO_ROOT, '.venv', 'bin', 'temporal');
}
