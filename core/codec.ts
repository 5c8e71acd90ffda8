/**
 * Payload protection: an AES-256-GCM PayloadCodec, so documents and generated text never reach
 * Temporal history (or its database) in plaintext. The TS client, the Node worker, the CLI and the
 * Python worker (trainers/codec.py) share this wire format:
 *
 *   metadata.encoding          = "binary/encrypted"
 *   metadata.encryption-key-id = the key id (UTF-8)
 *   data                       = nonce (12 random bytes) || AES-256-GCM ciphertext || tag (16 bytes)
 *   plaintext                  = the original Payload, protobuf-serialised (temporal.api.common.v1.Payload)
 *
 * Keys come from config: LLMLOOP_CODEC_KEYS="id1:<base64 32 bytes>,id2:..." (decryption tries the key
 * named in the payload, so old keys stay readable after rotation) and LLMLOOP_CODEC_KEY_ID (the key
 * that encrypts; the first listed when unset). No keys configured = no codec = plaintext payloads.
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TypedError } from './errors';

const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface CodecKeys {
  /** Key that encrypts new payloads. */
  encryptWith: string;
  keys: ReadonlyMap<string, Buffer>;
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
  return { encryptWith, keys };
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly config: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.config.encryptWith;
    const key = this.config.keys.get(keyId)!;
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(keyId) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was enabled stay readable.
      if (!payload.metadata?.encoding || fromUtf8.decode(payload.metadata.encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata[KEY_ID_METADATA];
      const keyId = keyIdBytes ? fromUtf8.decode(keyIdBytes) : '';
      const key = this.config.keys.get(keyId);
      if (!key) throw configError(`payload is encrypted with key '${keyId}', which is not in LLMLOOP_CODEC_KEYS`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new TypedError('CorruptDocument', 'encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new TypedError('CorruptDocument', `encrypted payload failed authentication with key '${keyId}' (tampered, or a different key under the same id)`);
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
