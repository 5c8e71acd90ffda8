import path from 'node:path';
import { loadConfig } from '../config';
import { QdrantVectorStore } from './qdrant';
import { SqliteVecStore } from './sqlite-vec';
import type { VectorStore } from './store';

export { collectionForModel, type TaskVectorPayload, type VectorHit, type VectorQuery, type VectorRecord, type VectorStore } from './store';
export { QdrantVectorStore } from './qdrant';
export { SqliteVecStore } from './sqlite-vec';

/**
 * The configured vector store: Qdrant when QDRANT_URL is set (QDRANT_API_KEY optional), otherwise
 * sqlite-vec in LLMLOOP_VECTOR_DB (default <data dir>/vectors/tasks.sqlite).
 */
export function vectorStoreFromEnv(env: NodeJS.ProcessEnv = process.env): VectorStore {
  if (env.QDRANT_URL) return new QdrantVectorStore(env.QDRANT_URL, env.QDRANT_API_KEY);
  return new SqliteVecStore(env.LLMLOOP_VECTOR_DB || path.join(loadConfig(env).dataDir, 'vectors', 'tasks.sqlite'));
}
