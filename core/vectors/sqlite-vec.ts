import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { getLoadablePath } from 'sqlite-vec';
import { TypedError } from '../errors';
import type { TaskVectorPayload, VectorHit, VectorQuery, VectorRecord, VectorStore } from './store';

const COLLECTION_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * sqlite-vec (a `vec0` virtual table per collection) in Node's built-in SQLite: a single file, no
 * server, no native build step (the extension ships prebuilt in the npm package). Exact cosine kNN,
 * with cluster_id and split as vec0 metadata columns so filtered searches happen inside the scan.
 */
export class SqliteVecStore implements VectorStore {
  readonly backend = 'sqlite-vec' as const;
  private readonly db: DatabaseSync;

  constructor(readonly file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new DatabaseSync(file, { allowExtension: true });
    this.db.loadExtension(getLoadablePath());
  }

  async ensureCollection(name: string, dim: number): Promise<void> {
    checkName(name);
    const existing = this.db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string } | undefined;
    if (existing) {
      const size = /float\[(\d+)\]/.exec(existing.sql)?.[1];
      if (Number(size) !== dim) throw new TypedError('InvalidRequest', `collection ${name} holds ${size}-dimensional vectors, not ${dim}`);
      return;
    }
    this.db.exec(
      `CREATE VIRTUAL TABLE ${name} USING vec0(id TEXT PRIMARY KEY, embedding float[${dim}] distance_metric=cosine, cluster_id INTEGER, split TEXT, +payload TEXT)`,
    );
  }

  async upsert(collection: string, records: readonly VectorRecord[]): Promise<void> {
    checkName(collection);
    // vec0 tables have no UPSERT: replace by delete + insert, atomically.
    const remove = this.db.prepare(`DELETE FROM ${collection} WHERE id = ?`);
    const insert = this.db.prepare(`INSERT INTO ${collection}(id, embedding, cluster_id, split, payload) VALUES (?, ?, ?, ?, ?)`);
    this.db.exec('BEGIN');
    try {
      for (const record of records) {
        remove.run(record.id);
        insert.run(record.id, float32Bytes(record.vector), BigInt(record.payload.cluster_id), record.payload.split, JSON.stringify(record.payload));
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  async search(collection: string, query: VectorQuery): Promise<VectorHit[]> {
    checkName(collection);
    const conditions = ['embedding MATCH ?', 'k = ?'];
    const params: (Uint8Array | bigint | string)[] = [float32Bytes(query.vector), BigInt(query.limit)];
    if (query.filter?.cluster_id !== undefined) {
      conditions.push('cluster_id = ?');
      params.push(BigInt(query.filter.cluster_id));
    }
    if (query.filter?.split !== undefined) {
      conditions.push('split = ?');
      params.push(query.filter.split);
    }
    const rows = this.db.prepare(`SELECT id, distance, payload FROM ${collection} WHERE ${conditions.join(' AND ')} ORDER BY distance`).all(...params) as {
      id: string;
      distance: number;
      payload: string;
    }[];
    return rows.map((r) => ({ id: r.id, score: 1 - r.distance, payload: JSON.parse(r.payload) as TaskVectorPayload }));
  }

  async count(collection: string): Promise<number> {
    checkName(collection);
    return Number((this.db.prepare(`SELECT count(*) AS n FROM ${collection}`).get() as { n: number }).n);
  }

  async deleteCollection(collection: string): Promise<void> {
    checkName(collection);
    this.db.exec(`DROP TABLE IF EXISTS ${collection}`);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function checkName(name: string): void {
  // Table names cannot be bound as parameters, so they are restricted instead.
  if (!COLLECTION_NAME.test(name)) throw new TypedError('InvalidRequest', `collection name ${JSON.stringify(name)} must match ${COLLECTION_NAME}`);
}

function float32Bytes(vector: ArrayLike<number>): Uint8Array {
  const floats = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
}
