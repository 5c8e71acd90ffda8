import { TypedError } from '../../core/errors';
import { AesGcmPayloadCodec, codecKeysFromEnv, dataConverterFromEnv } from '../../core/codec';
import type { Payload } from '@temporalio/common';

const KEY_7 = Buffer.alloc(32, 7).toString('base64');
const KEY_9 = Buffer.alloc(32, 9).toString('base64');
// Sealed by trainers/codec.py with key id k1 = 32 bytes of 7: a json/plain payload of {"marker":"from python"},
// in today's format (associated data) and in the first one (none, no format entry).
const FROM_PYTHON = 'G86Kdkr7X9wZFwPxNbT+vw3GNtK8P4M1vfSHA8GBti5QXrvw1/TECsveZQxBh+xodXW3ZzJwI1az/jkM2lmFhLFzj9b+n6sHX4zh4Z7S';
const FROM_PYTHON_LEGACY = 'bimjMPcWyuq/5+7ZqJeoa5ho8eKyvX9bLSEpgGVFOPjkPhj7LgN3U+X5M7Tl400dp50egVgZJyfO4g4R4JqZU+YgwY6KIzWcrPj6o4gy';

function codec(keys: string, keyId?: string, acceptLegacy = false): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(
    codecKeysFromEnv({ LLMLOOP_CODEC_KEYS: keys, ...(keyId ? { LLMLOOP_CODEC_KEY_ID: keyId } : {}), ...(acceptLegacy ? { LLMLOOP_CODEC_ACCEPT_LEGACY: '1' } : {}) })!,
  );
}

const sealedMetadata = (keyId: string, format?: string) => ({
  encoding: Buffer.from('binary/encrypted'),
  'encryption-key-id': Buffer.from(keyId),
  ...(format ? { 'encryption-format': Buffer.from(format) } : {}),
});

const plain = (text: string): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(text) });
const text = (payload: Payload) => ({ encoding: Buffer.from(payload.metadata!.encoding!).toString(), data: Buffer.from(payload.data!).toString() });

test('round trip hides the plaintext and names the key', async () => {
  const [sealed] = await codec(`k1:${KEY_7}`).encode([plain('"secret marker"')]);
  expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k1');
  expect(Buffer.from(sealed!.metadata!['encryption-format']!).toString()).toBe('aes-256-gcm/aad-v1');
  expect(Buffer.from(sealed!.data!).includes('secret marker')).toBe(false);
  const [opened] = await codec(`k1:${KEY_7}`).decode([sealed!]);
  expect(text(opened!)).toEqual({ encoding: 'json/plain', data: '"secret marker"' });
});

test('decodes what Python sealed, its associated data included', async () => {
  const sealed: Payload = { metadata: sealedMetadata('k1', 'aes-256-gcm/aad-v1'), data: Buffer.from(FROM_PYTHON, 'base64') };
  const [opened] = await codec(`k1:${KEY_7}`).decode([sealed]);
  expect(text(opened!)).toEqual({ encoding: 'json/plain', data: '{"marker":"from python"}' });
});

test('rotation keeps old payloads readable', async () => {
  const [old] = await codec(`k1:${KEY_7}`).encode([plain('1')]);
  const rotated = codec(`k1:${KEY_7},k2:${KEY_9}`, 'k2');
  const [fresh] = await rotated.encode([plain('2')]);
  expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
  expect((await rotated.decode([old!, fresh!])).map((p) => text(p).data)).toEqual(['1', '2']);
});

test('plaintext and first-format payloads are refused, unless the migration setting reads them', async () => {
  const legacy: Payload = { metadata: sealedMetadata('k1'), data: Buffer.from(FROM_PYTHON_LEGACY, 'base64') };
  await expect(codec(`k1:${KEY_7}`).decode([plain('3')])).rejects.toMatchObject({ type: 'InvalidRequest', message: expect.stringContaining('plaintext payload') });
  await expect(codec(`k1:${KEY_7}`).decode([legacy])).rejects.toMatchObject({ type: 'InvalidRequest', message: expect.stringContaining('legacy') });
  const migrating = codec(`k1:${KEY_7}`, undefined, true);
  expect((await migrating.decode([plain('3'), legacy])).map((p) => text(p).data)).toEqual(['3', '{"marker":"from python"}']);
  // Migrating still writes the new format, and never accepts an unknown one.
  const [fresh] = await migrating.encode([plain('4')]);
  expect(Buffer.from(fresh!.metadata!['encryption-format']!).toString()).toBe('aes-256-gcm/aad-v1');
  await expect(migrating.decode([{ ...fresh!, metadata: { ...fresh!.metadata, 'encryption-format': Buffer.from('aes-128-cbc') } }])).rejects.toMatchObject({ type: 'InvalidRequest' });
  expect(() => codecKeysFromEnv({ LLMLOOP_CODEC_KEYS: `k1:${KEY_7}`, LLMLOOP_CODEC_ACCEPT_LEGACY: 'yes' })).toThrow('0 or 1');
});

test('the metadata is bound: a payload relabelled with another key id, or stripped of its format, fails', async () => {
  // The same key under two ids: only the associated data tells them apart.
  const both = codec(`k1:${KEY_7},k2:${KEY_7}`, 'k1', true);
  const [sealed] = await both.encode([plain('x')]);
  const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('k2') } };
  await expect(both.decode([relabelled])).rejects.toMatchObject({ type: 'CorruptDocument', message: expect.stringContaining('metadata') });
  // A downgrade to the format without associated data (read only while migrating) fails too.
  const { 'encryption-format': _format, ...downgraded } = sealed!.metadata!;
  await expect(both.decode([{ ...sealed!, metadata: downgraded }])).rejects.toMatchObject({ type: 'CorruptDocument' });
});

test('a missing key, a wrong key and tampering fail with typed errors', async () => {
  const [sealed] = await codec(`k1:${KEY_7}`).encode([plain('x')]);
  await expect(codec(`k2:${KEY_9}`).decode([sealed!])).rejects.toMatchObject({ type: 'InvalidRequest', message: expect.stringContaining("'k1'") });
  await expect(codec(`k1:${KEY_9}`).decode([sealed!])).rejects.toMatchObject({ type: 'CorruptDocument' });
  const data = Buffer.from(sealed!.data!);
  data[data.length - 1]! ^= 1;
  await expect(codec(`k1:${KEY_7}`).decode([{ ...sealed!, data }])).rejects.toBeInstanceOf(TypedError);
});

test.each([
  ['k1', undefined, 'id:base64key'],
  [`k1:${Buffer.from('short').toString('base64')}`, undefined, 'needs 32'],
  ['k1:not base64!', undefined, 'not base64'],
  [`k1:${KEY_7.slice(0, -1)}!=`, undefined, 'not base64'],
  [`k1:${KEY_7},k1:${KEY_9}`, undefined, 'listed twice'],
  [`k1:${KEY_7}`, 'k9', 'not in LLMLOOP_CODEC_KEYS'],
])('bad configuration %s / %s is reported', (keys, keyId, problem) => {
  expect(() => codec(keys, keyId)).toThrow(problem);
});

test('no keys means the SDK default converter', () => {
  expect(dataConverterFromEnv({})).toBeUndefined();
  const converter = dataConverterFromEnv({ LLMLOOP_CODEC_KEYS: `k1:${KEY_7}` });
  expect(converter?.payloadCodecs?.[0]).toBeInstanceOf(AesGcmPayloadCodec);
  expect(converter?.failureConverterPath).toMatch(/failure-converter\.(ts|js)$/);
});
