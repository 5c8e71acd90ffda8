import { QdrantClient } from '@qdrant/js-client-rest';
import { createHash } from 'node:crypto';
import { TypedError } from '../errors';
import type { TaskVectorPayload, VectorHit, VectorQuery, VectorRecord, VectorStore } from './store';

/** Qdrant through its REST client: cosine collections, payload indexes on cluster_id and split. */
export class QdrantVectorStore implements VectorStore {
  readonly backend = 'qdrant' as const;
  private readonly client: QdrantClient;

  constructor(url: string, apiKey?: string) {
    this.client = new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
  }

  async ensureCollection(name: string, dim: number): Promise<void> {
    const { exists } = await this.client.collectionExists(name);
    if (exists) {
      const info = await this.client.getCollection(name);
      const vectors = info.config.params.vectors as { size?: number } | undefined;
      if (vectors?.size !== dim) throw new TypedError('InvalidRequest', `collection ${name} holds ${vectors?.size}-dimensional vectors, not ${dim}`);
      return;
    }
    await this.client.createCollection(name, { vectors: { size: dim, distance: 'Cosine' } });
    await this.client.createPayloadIndex(name, { field_name: 'cluster_id', field_schema: 'integer', wait: true });
    await this.client.createPayloadIndex(name, { field_name: 'split', field_schema: 'keyword', wait: true });
  }

  async upsert(collection: string, records: readonly VectorRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.client.upsert(collection, {
      wait: true,
      points: records.map((r) => ({ id: pointId(r.id), vector: Array.from(r.vector), payload: { ...r.payload, id: r.id } })),
    });
  }

  async search(collection: string, query: VectorQuery): Promise<VectorHit[]> {
    const must = [
      ...(query.filter?.cluster_id !== undefined ? [{ key: 'cluster_id', match: { value: query.filter.cluster_id } }] : []),
      ...(query.filter?.split !== undefined ? [{ key: 'split', match: { value: query.filter.split } }] : []),
    ];
    const { points } = await this.client.query(collection, { query: Array.from(query.vector), limit: query.limit, with_payload: true, ...(must.length ? { filter: { must } } : {}) });
    return points.map((hit) => {
      const { id, ...payload } = hit.payload as unknown as TaskVectorPayload & { id: string };
      return { id, score: hit.score, payload };
    });
  }

  async count(collection: string): Promise<number> {
    return (await this.client.count(collection, { exact: true })).count;
  }

  async deleteCollection(collection: string): Promise<void> {
    await this.client.deleteCollection(collection);
  }

  async close(): Promise<void> {}
}

/** Qdrant point ids are unsigned integers or UUIDs: a UUID derived from the task id keeps upserts idempotent. */
function pointId(id: string): string {
  const hex = createHash('sha256').update(id).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
