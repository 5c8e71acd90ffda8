import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import type { ArtifactRef } from '../schemas/generated/types';
import { TypedError } from './errors';

export type { ArtifactRef };

export const TREE_MEDIA_TYPE = 'application/vnd.llmloop.tree+json';

/** A directory stored as content: each file a blob, the listing itself a blob. */
export interface TreeManifest {
  kind: 'llmloop.tree/v1';
  files: { path: string; sha256: string; bytes: number }[];
}

/**
 * Content-addressed storage for everything too big for workflow history. Every store keeps a blob
 * under `sha256/<aa>/<hex>` (below its root or key prefix) and checks the hash on every read.
 * Implementations: LocalArtifactStore (a folder), S3ArtifactStore (S3, MinIO); pick one with
 * artifactStoreFromEnv() (core/artifacts.ts).
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

/**
 * The stored bytes do not hash to their address: tampering or media corruption. Non-retryable:
 * reading the same bytes again gives the same answer; the content must be put again.
 */
export class ArtifactCorrupt extends TypedError {
  constructor(sha256: string, actual: string, where: string) {
    super('ArtifactCorrupt', `artifact ${sha256} in ${where} hashes to ${actual}: the stored bytes are corrupt`, { sha256, actual }, true);
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

/** `sha256/<aa>/<hex>`: the relative location of a blob in every store. */
export function blobKey(sha256: string): string {
  if (!HEX64.test(sha256)) throw new Error(`not a sha256 hex digest: ${sha256}`);
  return `sha256/${sha256.slice(0, 2)}/${sha256}`;
}

/**
 * Passes bytes through and fails the stream at its end, before a consumer can commit it (rename a
 * temp file, complete a multipart upload), when they do not hash to `expected`.
 */
export class Sha256Check extends Transform {
  private readonly hash = createHash('sha256');

  constructor(
    private readonly expected: string,
    private readonly mismatch: (actual: string) => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest('hex');
    done(actual === this.expected ? null : this.mismatch(actual));
  }
}

/** The source file changed between hashing and storing: a retry hashes it again. */
export function changedWhileStored(filePath: string): (actual: string) => Error {
  return (actual) => new Error(`${filePath} changed while it was stored (now hashes to ${actual}); retry`);
}

/** Checks bytes read whole against their address. */
export function verifiedBytes(bytes: Buffer, sha256: string, where: string): Buffer {
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw new ArtifactCorrupt(sha256, actual, where);
  return bytes;
}

/**
 * Everything but the blob primitives, shared by every store: hashing on put, the tree layout, JSON.
 * A store implements where blobs live; reads of a blob always come back verified.
 */
export abstract class ContentAddressedStore implements ArtifactStore {
  protected abstract hasBlob(sha256: string): Promise<boolean>;
  /** Stores bytes the caller has just hashed. */
  protected abstract writeBlob(ref: ArtifactRef, bytes: Uint8Array): Promise<void>;
  /** Stores a file's bytes; fails (and stores nothing) if they no longer hash to ref.sha256. */
  protected abstract writeBlobFromFile(ref: ArtifactRef, filePath: string): Promise<void>;
  /** The blob's bytes, verified; ArtifactNotFound / ArtifactCorrupt otherwise. */
  protected abstract readBlob(sha256: string): Promise<Buffer>;
  /** Writes the blob to `target` atomically, verified; ArtifactNotFound / ArtifactCorrupt otherwise. */
  protected abstract copyBlobToFile(sha256: string, target: string): Promise<void>;

  async put(data: Uint8Array | string, mediaType: string): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const ref: ArtifactRef = { sha256: sha256Hex(bytes), bytes: bytes.byteLength, media_type: mediaType };
    if (!(await this.hasBlob(ref.sha256))) await this.writeBlob(ref, bytes);
    return ref;
  }

  async putFile(filePath: string, mediaType: string): Promise<ArtifactRef> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(filePath)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
    const ref: ArtifactRef = { sha256: hash.digest('hex'), bytes: size, media_type: mediaType };
    if (!(await this.hasBlob(ref.sha256))) await this.writeBlobFromFile(ref, filePath);
    return ref;
  }

  putJson(value: unknown, mediaType = 'application/json'): Promise<ArtifactRef> {
    return this.put(canonicalJson(value), mediaType);
  }

  get(ref: Pick<ArtifactRef, 'sha256'>): Promise<Buffer> {
    return this.readBlob(ref.sha256);
  }

  async getJson<T>(ref: Pick<ArtifactRef, 'sha256'>): Promise<T> {
    return JSON.parse((await this.get(ref)).toString('utf8')) as T;
  }

  has(ref: Pick<ArtifactRef, 'sha256'>): Promise<boolean> {
    return this.hasBlob(ref.sha256);
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
      await this.copyBlobToFile(file.sha256, target);
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
