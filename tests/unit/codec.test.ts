import { TypedError } from '../../core/errors';
import { AesGcmPayloadCodec, codecKeysFromEnv, dataConverterFromEnv } from '../../core/codec';
import type { Payload } from '@temporalio/common';

const KEY_7 = Buffer.alloc(32, 7).toString('base64');
const KEY_9 = Buffer.alloc(32, 9).toString('base64');
// Sealed by trainers/codec.py with key id k1 = 32 bytes of 7: a json/plain payload of {"marker":"from python"}.
const FROM_PYTHON = 'bimjMPcWyuq/5+7ZqJeoa5ho8eKyvX9bLSEpgGVFOPjkPhj7LgN3U+X5M7Tl400dp50egVgZJyfO4g4R4JqZU+YgwY6KIzWcrPj6o4gy';

function codec(keys: string, keyId?: string): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(codecKeysFromEnv({ LLMLOOP_CODEC_KEYS: keys, ...(keyId ? { LLMLOOP_CODEC_KEY_ID: keyId } : {}) })!);
}

const plain = (text: string): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(text) });
const text = (payload: Payload) => ({ encoding: Buffer.from(payload.metadata!.encoding!).toString(), data: Buffer.from(payload.data!).toString() });

test('round trip hides the plaintext and names the key', async () => {
  const [sealed] = await codec(`k1:${KEY_7}`).encode([plain('"secret marker"')]);
  expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k1');
  expect(Buffer.from(sealed!.data!).includes('secret marker')).toBe(false);
  const [opened] = await codec(`k1:${KEY_7}`).decode([sealed!]);
  expect(text(opened!)).toEqual({ encoding: 'json/plain', data: '"secret marker"' });
});

test('decodes what Python sealed', async () => {
  const sealed: Payload = { metadata: { encoding: Buffer.from('binary/encrypted'), 'encryption-key-id': Buffer.from('k1') }, data: Buffer.from(FROM_PYTHON, 'base64') };
  const [opened] = await codec(`k1:${KEY_7}`).decode([sealed]);
  expect(text(opened!)).toEqual({ encoding: 'json/plain', data: '{"marker":"from python"}' });
});

test('rotation keeps old payloads readable; plaintext passes through', async () => {
  const [old] = await codec(`k1:${KEY_7}`).encode([plain('1')]);
  const rotated = codec(`k1:${KEY_7},k2:${KEY_9}`, 'k2');
  const [fresh] = await rotated.encode([plain('2')]);
  expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
  expect((await rotated.decode([old!, fresh!, plain('3')])).map((p) => text(p).data)).toEqual(['1', '2', '3']);
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
