import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ArtifactCorrupt, ArtifactNotFound } from './artifacts-base';
import { LocalArtifactStore } from './artifacts-local';

/** After an eviction the cache holds at most this share of its limit, so the next fills do not each rescan. */
const EVICT_TO = 0.8;

/**
 * A size-bounded local copy of remote blobs, least recently used first out. Recency is the file's
 * mtime (touched on each hit), so the Node and Python workers of one host can share the folder.
 * Entries are verified like any LocalArtifactStore read; a corrupt entry is dropped, and the caller
 * fetches the blob again.
 */
export class BoundedBlobCache {
  private readonly store: LocalArtifactStore;
  /** Bytes in the folder as this process last counted them, plus what it added since. */
  private approxBytes: number | undefined;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    this.store = new LocalArtifactStore(dir);
  }

  /** Whether a blob of this size is cached at all: one larger than the whole cache streams past it. */
  fits(bytes: number): boolean {
    return bytes <= this.maxBytes * EVICT_TO;
  }

  async read(sha256: string): Promise<Buffer | undefined> {
    return this.hitting(sha256, () => this.store.get({ sha256 }));
  }

  /** Copies a cached blob to `target`; false when it is not cached. */
  async copyTo(sha256: string, target: string): Promise<boolean> {
    return (await this.hitting(sha256, async () => (await this.store.copyBlobToFile(sha256, target), true))) ?? false;
  }

  /** Caches a stream of `bytes` bytes, committed only when it hashes to `sha256` (`mismatch` otherwise). */
  async fill(sha256: string, bytes: number, source: Readable, mismatch: (actual: string) => Error): Promise<void> {
    this.approxBytes ??= await this.countBytes();
    await this.store.writeStream(sha256, source, mismatch);
    this.approxBytes += bytes;
    if (this.approxBytes > this.maxBytes) await this.evict();
  }

  private async hitting<T>(sha256: string, read: () => Promise<T>): Promise<T | undefined> {
    const file = this.store.blobPath(sha256);
    try {
      const value = await read();
      const now = new Date();
      await fs.utimes(file, now, now).catch(() => undefined); // evicted meanwhile by another process: fine
      return value;
    } catch (err) {
      // Not cached, or cached corrupt (the local store has moved that copy aside): fetch again.
      if (err instanceof ArtifactCorrupt || err instanceof ArtifactNotFound) return undefined;
      throw err;
    }
  }

  private async entries(): Promise<{ file: string; bytes: number; usedAt: number }[]> {
    const shards = await fs.readdir(path.join(this.dir, 'sha256')).catch(() => [] as string[]);
    const out: { file: string; bytes: number; usedAt: number }[] = [];
    for (const shard of shards) {
      const shardDir = path.join(this.dir, 'sha256', shard);
      for (const name of await fs.readdir(shardDir).catch(() => [] as string[])) {
        if (name.includes('.tmp-')) continue; // another process is writing it
        const file = path.join(shardDir, name);
        const stat = await fs.stat(file).catch(() => undefined);
        if (stat?.isFile()) out.push({ file, bytes: stat.size, usedAt: stat.mtimeMs });
      }
    }
    return out;
  }

  private async countBytes(): Promise<number> {
    return (await this.entries()).reduce((sum, entry) => sum + entry.bytes, 0);
  }

  private async evict(): Promise<void> {
    const entries = (await this.entries()).sort((a, b) => a.usedAt - b.usedAt);
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    for (const entry of entries) {
      if (total <= this.maxBytes * EVICT_TO) break;
      await fs.rm(entry.file, { force: true });
      total -= entry.bytes;
    }
    this.approxBytes = total;
  }
}
