/** The embedding stage's OpenAI-compatible server (`python -m trainers.embedding serve`) for tests. */
import { spawn } from 'node:child_process';
import { pythonExecutable, REPO_ROOT } from '../../core/config';

export interface RunningEmbeddingServer {
  /** Base URL ending in /v1. */
  url: string;
  stop(): Promise<void>;
}

/**
 * `threads` caps torch's intra-op threads (OMP_NUM_THREADS). One request embeds one short prompt, so
 * more threads only add synchronisation: on a busy 2-core host, 1 thread gave p50 18 ms against
 * 101 ms with 2 (docs/routing.md).
 */
export async function startEmbeddingServer(options: { threads?: number; readyTimeoutMs?: number } = {}): Promise<RunningEmbeddingServer> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const child = spawn(pythonExecutable(), ['-m', 'trainers.embedding', 'serve', '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: String(options.threads ?? 1) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedding server not ready in ${readyTimeoutMs} ms:\n${log}`)), readyTimeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const line = log.split('\n').find((l) => l.startsWith('{"serving"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { serving: string }).serving);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedding server exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
