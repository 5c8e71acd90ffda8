/**
 * Request prompts by content hash. The request log only carries the hash; with `store_prompts` the
 * messages themselves are kept under that same hash (canonical JSON) for the feedback loop
 * (activities/feedback-collection.ts), encrypted with the payload codec keys (core/codec.ts, LLMLOOP_CODEC_KEYS:
 * the same keys and format as Temporal payloads, so key rotation works alike) and deleted once their
 * TTL is over. A file's modification time is set to its expiry, so a reader needs no TTL of its own.
 * Prompts hold personal data: they are never written in clear.
 */
import { temporal } from '@temporalio/proto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, sha256Hex } from '../core/artifacts';
import { writeFileAtomically } from '../core/atomic-file';
import { AesGcmPayloadCodec, type CodecKeys } from '../core/codec';
import { TypedError } from '../core/errors';

const SHA256 = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

/** The prompt's hash, as the request log carries it. */
export function promptSha256(messages: unknown): string {
  return sha256Hex(canonicalJson(messages));
}

export class PromptStore {
  private readonly codec: AesGcmPayloadCodec;

  constructor(
    readonly dir: string,
    keys: CodecKeys | undefined,
    /** How long a stored prompt lives; readers that never store may pass 0. */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!keys) throw new TypedError('InvalidRequest', 'store_prompts needs the payload codec keys (LLMLOOP_CODEC_KEYS): prompts are only stored encrypted');
    this.codec = new AesGcmPayloadCodec(keys);
  }

  static inDataDir(dataDir: string, keys: CodecKeys | undefined, ttlMs: number): PromptStore {
    return new PromptStore(path.join(dataDir, 'routing', 'prompts'), keys, ttlMs);
  }

  /** Encrypts and stores the messages under their hash; returns the hash. */
  async put(messages: unknown): Promise<string> {
    const json = canonicalJson(messages);
    const sha256 = sha256Hex(json);
    const [sealed] = await this.codec.encode([{ metadata: { encoding: utf8.encode('json/plain') }, data: utf8.encode(json) }]);
    await fs.mkdir(this.dir, { recursive: true });
    const file = this.file(sha256);
    await writeFileAtomically(file, Buffer.from(temporal.api.common.v1.Payload.encode(sealed!).finish()));
    const expiresAt = new Date(this.now() + this.ttlMs);
    await fs.utimes(file, expiresAt, expiresAt);
    return sha256;
  }

  /** The stored messages, or null when none were stored or they expired. */
  async get(sha256: string): Promise<unknown> {
    if (!SHA256.test(sha256)) return null;
    let bytes: Buffer;
    try {
      if (await this.expired(this.file(sha256))) return null;
      bytes = await fs.readFile(this.file(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const [payload] = await this.codec.decode([temporal.api.common.v1.Payload.decode(bytes)]);
    return JSON.parse(Buffer.from(payload!.data ?? new Uint8Array()).toString('utf8'));
  }

  /** Deletes every expired prompt; returns how many. */
  async sweep(): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.dir, name);
      if (await this.expired(file).catch(() => false)) {
        await fs.rm(file, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  private async expired(file: string): Promise<boolean> {
    return (await fs.stat(file)).mtimeMs <= this.now();
  }

  private file(sha256: string): string {
    return path.join(this.dir, `${sha256}.sealed`);
  }
}
