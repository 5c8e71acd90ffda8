/**
 * Payload protection: an AES-256-GCM PayloadCodec, so documents and generated text never reach
 * Temporal history (or its database) in plaintext. The TS client, the Node worker, the CLI and the
 * Python worker (trainers/codec.py) share this wire format:
 *
 *   metadata.encoding          = "binary/encrypted"
 *   metadata.encryption-key-id = the key id (UTF-8)
 *   metadata.encryption-format = "aes-256-gcm/aad-v1"
 *   data                       = nonce (12 random bytes) || AES-256-GCM ciphertext || tag (16 bytes)
 *   plaintext                  = the original Payload, protobuf-serialised (temporal.api.common.v1.Payload)
 *   associated data            = the three metadata entries above, sorted by name, each as
 *                                u32be(name length) name u32be(value length) value
 * The associated data binds the ciphertext to its metadata: a payload relabelled with another key id
 * or format fails authentication instead of being read under the wrong assumptions.
 *
 * Keys come from config: LLMLOOP_CODEC_KEYS="id1:<base64 32 bytes>,id2:..." (decryption tries the key
 * named in the payload, so old keys stay readable after rotation) and LLMLOOP_CODEC_KEY_ID (the key
 * that encrypts; the first listed when unset). No keys configured = no codec = plaintext payloads.
 * With keys, decoding refuses what the codec did not seal: plaintext payloads and the first format's
 * ciphertexts (no format entry, no associated data). LLMLOOP_CODEC_ACCEPT_LEGACY=1 reads both while
 * histories from before are migrated or expire; it never changes how payloads are written.
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TypedError } from './errors';

const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const FORMAT_METADATA = 'encryption-format';
const SEALED_FORMAT = 'aes-256-gcm/aad-v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface CodecKeys {
  /** Key that encrypts new payloads. */
  encryptWith: string;
  keys: ReadonlyMap<string, Buffer>;
  /** Decode plaintext payloads and first-format ciphertexts too (LLMLOOP_CODEC_ACCEPT_LEGACY=1, for migrating old histories). */
  acceptLegacy?: boolean;
}

function configError(message: string): TypedError {
  return new TypedError('InvalidRequest', `payload codec configuration: ${message}`);
}

/** Parses LLMLOOP_CODEC_KEYS / LLMLOOP_CODEC_KEY_ID; undefined when no keys are configured. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const spec = env.LLMLOOP_CODEC_KEYS?.trim();
  if (!spec) return undefined;
  const keys = new Map<string, Buffer>();
  for (const entry of spec.split(',')) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator).trim();
    const encoded = entry.slice(separator + 1).trim();
    if (separator <= 0 || !id) throw configError(`entries of LLMLOOP_CODEC_KEYS are id:base64key, got '${entry.slice(0, 20)}…'`);
    // Strict, as trainers/codec.py decodes (Buffer.from would skip stray characters and read a different key).
    if (!BASE64.test(encoded)) throw configError(`key '${id}' is not base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) throw configError(`key '${id}' decodes to ${key.length} bytes; AES-256 needs ${KEY_BYTES}`);
    if (keys.has(id)) throw configError(`key id '${id}' is listed twice`);
    keys.set(id, key);
  }
  const encryptWith = env.LLMLOOP_CODEC_KEY_ID?.trim() || keys.keys().next().value!;
  if (!keys.has(encryptWith)) throw configError(`LLMLOOP_CODEC_KEY_ID '${encryptWith}' is not in LLMLOOP_CODEC_KEYS`);
  const legacy = env.LLMLOOP_CODEC_ACCEPT_LEGACY?.trim() ?? '';
  if (!['', '0', '1'].includes(legacy)) throw configError(`LLMLOOP_CODEC_ACCEPT_LEGACY is 0 or 1, got '${legacy}'`);
  return { encryptWith, keys, acceptLegacy: legacy === '1' };
}

/**
 * The associated data: the sealed metadata entries, canonical (sorted, length-prefixed), as
 * trainers/codec.py builds it. Only these entries: metadata someone else adds is not ours to bind.
 */
const BOUND_METADATA = ['encoding', FORMAT_METADATA, KEY_ID_METADATA].sort();
function associatedData(metadata: Record<string, Uint8Array | null | undefined>): Buffer {
  const parts: Buffer[] = [];
  for (const name of BOUND_METADATA) {
    for (const bytes of [utf8.encode(name), metadata[name] ?? new Uint8Array()]) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, Buffer.from(bytes));
    }
  }
  return Buffer.concat(parts);
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly config: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.config.encryptWith;
    const key = this.config.keys.get(keyId)!;
    return payloads.map((payload) => {
      const metadata = { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(keyId), [FORMAT_METADATA]: utf8.encode(SEALED_FORMAT) };
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(associatedData(metadata));
      const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return { metadata, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const metadata = payload.metadata ?? {};
      const text = (name: string) => (metadata[name] ? fromUtf8.decode(metadata[name]) : undefined);
      if (text('encoding') !== ENCRYPTED_ENCODING) {
        // Whoever can write to history (or the prompt store) must not slip in a payload the keys never sealed.
        if (this.config.acceptLegacy) return payload;
        throw configError(`refused a plaintext payload (encoding '${text('encoding') ?? ''}'): with LLMLOOP_CODEC_KEYS set every payload must be sealed; LLMLOOP_CODEC_ACCEPT_LEGACY=1 reads payloads from before encryption`);
      }
      const format = text(FORMAT_METADATA);
      const legacyAllowed = format === undefined && this.config.acceptLegacy;
      if (format !== SEALED_FORMAT && !legacyAllowed) {
        throw configError(`refused an encrypted payload of format '${format ?? 'legacy, no associated data'}' (this codec writes '${SEALED_FORMAT}'; LLMLOOP_CODEC_ACCEPT_LEGACY=1 reads the legacy one)`);
      }
      const keyId = text(KEY_ID_METADATA) ?? '';
      const key = this.config.keys.get(keyId);
      if (!key) throw configError(`payload is encrypted with key '${keyId}', which is not in LLMLOOP_CODEC_KEYS`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new TypedError('CorruptDocument', 'encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
      if (format !== undefined) decipher.setAAD(associatedData(metadata));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new TypedError('CorruptDocument', `encrypted payload failed authentication with key '${keyId}' (tampered data or metadata, or a different key under the same id)`);
      }
      return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
    });
  }
}

/**
 * The data converter every client and worker uses: with keys configured, the codec for payloads and
 * a failure converter that moves failure messages and stacks into a payload, so they are sealed too;
 * the SDK default otherwise.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = codecKeysFromEnv(env);
  return keys ? { payloadCodecs: [new AesGcmPayloadCodec(keys)], failureConverterPath: require.resolve('./failure-converter') } : undefined;
}
