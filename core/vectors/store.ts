/**
 * Vector store for task embeddings: one collection per embedding model, one point per task, with the
 * payload the router and the feedback loop filter on. Two backends implement it: sqlite-vec inside
 * Node's built-in SQLite (default, no server) and Qdrant (QDRANT_URL) for scale.
 */
export interface TaskVectorPayload {
  task_id: string;
  cluster_id: number;
  split: 'train' | 'validation' | 'test';
  /** Source document sha256 (or another origin, e.g. `traffic`). */
  source: string;
  task_type: string;
}

export interface VectorRecord {
  id: string;
  vector: ArrayLike<number>;
  payload: TaskVectorPayload;
}

export interface VectorQuery {
  vector: ArrayLike<number>;
  limit: number;
  filter?: { cluster_id?: number; split?: TaskVectorPayload['split'] };
}

export interface VectorHit {
  id: string;
  /** Cosine similarity to the query. */
  score: number;
  payload: TaskVectorPayload;
}

export interface VectorStore {
  readonly backend: 'sqlite-vec' | 'qdrant';
  /** Creates the collection for vectors of `dim` dimensions; a no-op when it exists with that size. */
  ensureCollection(name: string, dim: number): Promise<void>;
  /** Inserts or replaces by id: re-storing the same tasks is idempotent. */
  upsert(collection: string, records: readonly VectorRecord[]): Promise<void>;
  search(collection: string, query: VectorQuery): Promise<VectorHit[]>;
  count(collection: string): Promise<number>;
  deleteCollection(collection: string): Promise<void>;
  close(): Promise<void>;
}

/** Collection of the task vectors of one embedding model: names valid in SQLite and Qdrant alike. */
export function collectionForModel(embeddingModelId: string): string {
  return `tasks_${embeddingModelId.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}
