/**
 * One contract for every vector store backend. sqlite-vec always runs; Qdrant runs when QDRANT_URL
 * points at a server (e.g. `docker run -p 6333:6333 qdrant/qdrant`, then QDRANT_URL=http://localhost:6333).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { collectionForModel, QdrantVectorStore, SqliteVecStore, type VectorRecord, type VectorStore } from '../../core/vectors';

const backends: [string, () => VectorStore][] = [['sqlite-vec', () => new SqliteVecStore(path.join(os.tmpdir(), `llmloop-vectors-${randomUUID()}.sqlite`))]];
if (process.env.QDRANT_URL) backends.push(['qdrant', () => new QdrantVectorStore(process.env.QDRANT_URL!, process.env.QDRANT_API_KEY)]);
else test.skip('qdrant backend (set QDRANT_URL to run the contract against a Qdrant server)', () => undefined);

function unit(values: number[]): number[] {
  const norm = Math.hypot(...values);
  return values.map((v) => v / norm);
}

const records: VectorRecord[] = [
  { id: 'task-a', vector: unit([1, 0, 0, 0]), payload: { task_id: 'task-a', cluster_id: 0, split: 'train', source: 'doc-1', task_type: 'summary' } },
  { id: 'task-b', vector: unit([0.9, 0.1, 0, 0]), payload: { task_id: 'task-b', cluster_id: 0, split: 'test', source: 'doc-1', task_type: 'summary' } },
  { id: 'task-c', vector: unit([0, 1, 0, 0]), payload: { task_id: 'task-c', cluster_id: 1, split: 'test', source: 'doc-2', task_type: 'classification' } },
  { id: 'task-d', vector: unit([0, 0, 1, 0]), payload: { task_id: 'task-d', cluster_id: 2, split: 'validation', source: 'doc-2', task_type: 'reasoning' } },
];

describe.each(backends)('vector store contract: %s', (_name, open) => {
  let store: VectorStore;
  const collection = collectionForModel(`test/${randomUUID()}`);
  beforeAll(async () => {
    store = open();
    await store.ensureCollection(collection, 4);
    await store.upsert(collection, records);
  });
  afterAll(async () => {
    await store.deleteCollection(collection);
    await store.close();
  });

  it('returns the nearest vectors by cosine with their payloads', async () => {
    const hits = await store.search(collection, { vector: unit([1, 0.05, 0, 0]), limit: 2 });
    expect(hits.map((h) => h.id)).toEqual(['task-a', 'task-b']);
    expect(hits[0]!.score).toBeGreaterThan(0.99);
    expect(hits[0]!.payload).toEqual(records[0]!.payload);
  });

  it('filters by cluster and split', async () => {
    expect((await store.search(collection, { vector: unit([1, 0, 0, 0]), limit: 5, filter: { cluster_id: 1 } })).map((h) => h.id)).toEqual(['task-c']);
    expect((await store.search(collection, { vector: unit([1, 0, 0, 0]), limit: 5, filter: { split: 'test' } })).map((h) => h.id)).toEqual(['task-b', 'task-c']);
  });

  it('upserts idempotently: storing the same ids again replaces, never duplicates', async () => {
    await store.upsert(collection, [{ ...records[3]!, payload: { ...records[3]!.payload, cluster_id: 1 } }]);
    await store.upsert(collection, records.slice(0, 3));
    expect(await store.count(collection)).toBe(4);
    const [hit] = await store.search(collection, { vector: unit([0, 0, 1, 0]), limit: 1 });
    expect(hit!.payload.cluster_id).toBe(1);
  });

  it('refuses vectors of another dimension for an existing collection', async () => {
    await expect(store.ensureCollection(collection, 8)).rejects.toMatchObject({ type: 'InvalidRequest' });
  });
});

test('collection names are valid identifiers derived from the embedding model id', () => {
  expect(collectionForModel('sentence-transformers/all-MiniLM-L6-v2')).toBe('tasks_sentence_transformers_all_minilm_l6_v2');
});
