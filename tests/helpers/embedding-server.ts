/** The embedding stage's OpenAI-compatible server (`python -m trainers.embedding serve`) for tests. */
import { startEmbeddingServerProcess } from '../../core/stack';

export interface RunningEmbeddingServer {
  /** Base URL ending in /v1. */
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddingServer(options: { threads?: number; readyTimeoutMs?: number } = {}): Promise<RunningEmbeddingServer> {
  const { service, url } = await startEmbeddingServerProcess(options);
  return { url, stop: () => service.stop() };
}
