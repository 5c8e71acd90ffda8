import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactCorrupt, ArtifactNotFound, blobKey, changedWhileStored, ContentAddressedStore, Sha256Check, verifiedBytes, type ArtifactRef } from './artifacts-base';

/** The store as a folder: a shared mount for several hosts, or the read cache of S3ArtifactStore. */
export class LocalArtifactStore extends ContentAddressedStore {
  constructor(readonly root: string) {
    super();
  }

  blobPath(sha256: string): string {
    return path.join(this.root, ...blobKey(sha256).split('/'));
  }

  protected async hasBlob(sha256: string): Promise<boolean> {
    try {
      await fs.access(this.blobPath(sha256));
      return true;
    } catch {
      return false;
    }
  }

  protected async writeBlob(ref: ArtifactRef, bytes: Uint8Array): Promise<void> {
    await writeAtomically(this.blobPath(ref.sha256), (tmp) => fs.writeFile(tmp, bytes), { durable: true });
  }

  protected writeBlobFromFile(ref: ArtifactRef, filePath: string): Promise<void> {
    return this.writeStream(ref.sha256, createReadStream(filePath), changedWhileStored(filePath));
  }

  /** Stores a stream under `sha256`, committed only when its bytes hash to it (`mismatch` otherwise). */
  async writeStream(sha256: string, source: Readable, mismatch: (actual: string) => Error): Promise<void> {
    await writeAtomically(this.blobPath(sha256), (tmp) => pipeline(source, new Sha256Check(sha256, mismatch), createWriteStream(tmp)), { durable: true });
  }

  protected readBlob(sha256: string): Promise<Buffer> {
    return this.quarantiningCorrupt(sha256, async () => verifiedBytes(await fs.readFile(this.blobPath(sha256)), sha256, this.root));
  }

  copyBlobToFile(sha256: string, target: string): Promise<void> {
    const corrupt = (actual: string) => new ArtifactCorrupt(sha256, actual, this.root);
    const copy = (tmp: string) => pipeline(createReadStream(this.blobPath(sha256)), new Sha256Check(sha256, corrupt), createWriteStream(tmp));
    // The target is a working copy, rebuilt from the store after a crash: atomic, not fsynced.
    return this.quarantiningCorrupt(sha256, () => writeAtomically(target, copy, { durable: false }));
  }

  /**
   * Maps a missing blob to ArtifactNotFound, and moves a corrupt one aside (kept for inspection as
   * `<hex>.corrupt-<time>`) so that putting the content again repairs the store instead of finding
   * the bad copy and skipping the write.
   */
  private async quarantiningCorrupt<T>(sha256: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFound(`artifact ${sha256} is not in ${this.root}`);
      if (err instanceof ArtifactCorrupt) {
        const blob = this.blobPath(sha256);
        await fs.rename(blob, `${blob}.corrupt-${Date.now()}`).catch(() => undefined);
      }
      throw err;
    }
  }
}

/**
 * Temp file + rename in the target's folder: a killed writer never leaves a half-written file. When
 * durable, the file is fsynced before the rename and the folder after it (and any folder created
 * for it), so a power loss cannot leave a name pointing at missing or partial bytes either.
 */
export async function writeAtomically(target: string, write: (tmpPath: string) => Promise<void>, { durable }: { durable: boolean }): Promise<void> {
  const dir = path.dirname(target);
  const created = await fs.mkdir(dir, { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await write(tmp);
    if (durable) await fsyncPath(tmp);
    await fs.rename(tmp, target);
    if (durable) {
      await fsyncPath(dir);
      for (let made = dir; created && made !== path.dirname(created); made = path.dirname(made)) await fsyncPath(path.dirname(made));
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
