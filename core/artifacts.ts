import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactRef } from '../schemas/generated/types';
import { loadConfig } from './config';
import { TypedError } from './errors';

export type { ArtifactRef };

export const TREE_MEDIA_TYPE = 'application/vnd.llmloop.tree+json';

/** A directory stored as content: each file a blob, the listing itself a blob. */
export interface TreeManifest {
  kind: 'llmloop.tree/v1';
  files: { path: string; sha256: string; bytes: number }[];
}

/**
 * Content-addressed storage for everything too big for workflow history.
 * Implementations: LocalArtifactStore (default); an S3-compatible store implements the same
 * methods with keys `sha256/<aa>/<hex>`.
 */
export interface ArtifactStore {
  put(data: Uint8Array | string, mediaType: string): Promise<ArtifactRef>;
  putFile(filePath: string, mediaType: string): Promise<ArtifactRef>;
  putJson(value: unknown, mediaType?: string): Promise<ArtifactRef>;
  get(ref: Pick<ArtifactRef, 'sha256'>): Promise<Buffer>;
  getJson<T>(ref: Pick<ArtifactRef, 'sha256'>): Promise<T>;
  has(ref: Pick<ArtifactRef, 'sha256'>): Promise<boolean>;
  putTree(dir: string): Promise<ArtifactRef>;
  getTree(ref: Pick<ArtifactRef, 'sha256'>, destDir: string): Promise<void>;
}

/** Typed and non-retryable: a content address that is not in the store will not appear by retrying. */
export class ArtifactNotFound extends TypedError {
  constructor(message: string) {
    super('ArtifactNotFound', message);
  }
}

/** JSON with sorted keys and no whitespace, so equal values hash equally in every language. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  static fromEnv(): LocalArtifactStore {
    return new LocalArtifactStore(path.join(loadConfig().dataDir, 'artifacts'));
  }

  blobPath(sha256: string): string {
    if (!HEX64.test(sha256)) throw new Error(`not a sha256 hex digest: ${sha256}`);
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async put(data: Uint8Array | string, mediaType: string): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const sha256 = sha256Hex(bytes);
    const ref: ArtifactRef = { sha256, bytes: bytes.byteLength, media_type: mediaType };
    if (await this.has(ref)) return ref;
    await this.writeAtomically(sha256, async (tmp) => fs.writeFile(tmp, bytes));
    return ref;
  }

  async putFile(filePath: string, mediaType: string): Promise<ArtifactRef> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(filePath)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
    const sha256 = hash.digest('hex');
    const ref: ArtifactRef = { sha256, bytes: size, media_type: mediaType };
    if (await this.has(ref)) return ref;
    await this.writeAtomically(sha256, async (tmp) => fs.copyFile(filePath, tmp));
    return ref;
  }

  putJson(value: unknown, mediaType = 'application/json'): Promise<ArtifactRef> {
    return this.put(canonicalJson(value), mediaType);
  }

  async get(ref: Pick<ArtifactRef, 'sha256'>): Promise<Buffer> {
    try {
      return await fs.readFile(this.blobPath(ref.sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFound(`artifact ${ref.sha256} is not in ${this.root}`);
      throw err;
    }
  }

  async getJson<T>(ref: Pick<ArtifactRef, 'sha256'>): Promise<T> {
    return JSON.parse((await this.get(ref)).toString('utf8')) as T;
  }

  async has(ref: Pick<ArtifactRef, 'sha256'>): Promise<boolean> {
    try {
      await fs.access(this.blobPath(ref.sha256));
      return true;
    } catch {
      return false;
    }
  }

  async putTree(dir: string): Promise<ArtifactRef> {
    const files: TreeManifest['files'] = [];
    for (const rel of await listFilesRecursively(dir)) {
      const ref = await this.putFile(path.join(dir, rel), 'application/octet-stream');
      files.push({ path: rel.split(path.sep).join('/'), sha256: ref.sha256, bytes: ref.bytes });
    }
    const manifest: TreeManifest = { kind: 'llmloop.tree/v1', files };
    return this.putJson(manifest, TREE_MEDIA_TYPE);
  }

  async getTree(ref: Pick<ArtifactRef, 'sha256'>, destDir: string): Promise<void> {
    const manifest = await this.getJson<TreeManifest>(ref);
    if (manifest.kind !== 'llmloop.tree/v1') throw new Error(`artifact ${ref.sha256} is not a tree`);
    for (const file of manifest.files) {
      const target = path.resolve(destDir, file.path);
      if (!target.startsWith(path.resolve(destDir) + path.sep)) throw new Error(`tree entry escapes its folder: ${file.path}`);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(this.blobPath(file.sha256), target);
    }
  }

  /** Temp file + rename in the same folder: a killed writer never leaves a half-written blob. */
  private async writeAtomically(sha256: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
    const finalPath = this.blobPath(sha256);
    await fs.mkdir(path.dirname(finalPath), { recursive: true });
    const tmp = `${finalPath}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      await write(tmp);
      const handle = await fs.open(tmp, 'r');
      await handle.sync();
      await handle.close();
      await fs.rename(tmp, finalPath);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }
}

async function listFilesRecursively(dir: string, prefix = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFilesRecursively(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}
