/** core/temporal.ts: the TLS / mTLS / API-key options every TS client and the Node worker connect with. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeConnection, sdkConnectionOptions, temporalConnectionOptions } from '../../core/temporal';

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-tls-options-'));
const CA = path.join(folder, 'ca.pem');
const CERT = path.join(folder, 'client.pem');
const KEY = path.join(folder, 'client.key');
fs.writeFileSync(CA, 'ca pem');
fs.writeFileSync(CERT, 'cert pem');
fs.writeFileSync(KEY, 'key pem');
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const options = (env: NodeJS.ProcessEnv) => temporalConnectionOptions({ TEMPORAL_ADDRESS: 'temporal.example:7233', ...env });

test('nothing configured: plaintext to TEMPORAL_ADDRESS, and nothing TLS-related passed to the SDK', () => {
  expect(options({})).toEqual({ address: 'temporal.example:7233', tls: false });
  expect(sdkConnectionOptions(options({}))).toEqual({ address: 'temporal.example:7233' });
  expect(temporalConnectionOptions({}, 'given:1').address).toBe('given:1');
  // Compose passes unset settings as empty strings: still nothing configured.
  const empty = Object.fromEntries(['TEMPORAL_TLS', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_NAME'].map((name) => [name, '']));
  expect(options(empty)).toEqual({ address: 'temporal.example:7233', tls: false });
});

test('mTLS from files: CA, client pair and server name reach the SDK options', () => {
  const mtls = options({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA, TEMPORAL_TLS_CLIENT_CERT_PATH: CERT, TEMPORAL_TLS_CLIENT_KEY_PATH: KEY, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
  expect(sdkConnectionOptions(mtls)).toEqual({
    address: 'temporal.example:7233',
    tls: { serverRootCACertificate: Buffer.from('ca pem'), clientCertPair: { crt: Buffer.from('cert pem'), key: Buffer.from('key pem') }, serverNameOverride: 'temporal.internal' },
  });
  expect(describeConnection(mtls)).toBe('temporal.example:7233 (TLS, client certificate)');
  expect(options({ TEMPORAL_TLS_CLIENT_CERT_DATA: 'inline cert', TEMPORAL_TLS_CLIENT_KEY_DATA: 'inline key' }).tls).toEqual({ clientCertPair: { crt: Buffer.from('inline cert'), key: Buffer.from('inline key') } });
});

test('an API key turns TLS on (system roots) and is passed as the SDK apiKey; TEMPORAL_TLS=true alone is TLS too', () => {
  expect(sdkConnectionOptions(options({ TEMPORAL_API_KEY: 'secret' }))).toEqual({ address: 'temporal.example:7233', tls: {}, apiKey: 'secret' });
  expect(describeConnection(options({ TEMPORAL_API_KEY: 'secret' }))).not.toContain('secret');
  expect(options({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
});

test.each([
  [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA }, 'contradicts'],
  [{ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'secret' }, 'in clear'],
  [{ TEMPORAL_TLS_CLIENT_CERT_PATH: CERT }, 'both'],
  [{ TEMPORAL_TLS_CLIENT_KEY_DATA: 'key' }, 'both'],
  [{ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(folder, 'missing.pem') }, 'ENOENT'],
  [{ TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA, TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'x' }, 'not both'],
  [{ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }, 'not supported'],
  [{ TEMPORAL_TLS: 'yes' }, 'true or false'],
])('%j is refused before connecting (%s), never downgraded to plaintext', (env, problem) => {
  expect(() => options(env)).toThrow(expect.objectContaining({ type: 'InvalidRequest', message: expect.stringContaining(problem) }));
});
