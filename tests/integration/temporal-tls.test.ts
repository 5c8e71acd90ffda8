/**
 * TLS and mTLS to Temporal from every kind of process, on a real TLS endpoint. The dev server serves
 * plaintext only (`temporal server start-dev` has no TLS flags), so a TLS terminator stands in front
 * of it, the way a load balancer or Temporal Cloud's endpoint does: it demands a client certificate
 * signed by the test CA and forwards the bytes to the dev server. The TS client, the Node worker and
 * the Python worker all connect through it with the TEMPORAL_TLS_* variables, and the health-check
 * workflow runs across both languages.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Service } from '../../core/services';
import { connectClient } from '../../core/temporal';
import { createNodeWorker } from '../../workers/node-worker';
import { healthCheck } from '../../workflows';
import { startPythonWorker, testAddress } from '../helpers/temporal';

jest.setTimeout(180_000);

const GPU_CLASS = 'tls-test';
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-tls-'));
const file = (name: string) => path.join(folder, name);
const TLS_VARIABLES = ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_TLS'];
const saved = Object.fromEntries(TLS_VARIABLES.map((name) => [name, process.env[name]]));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' });
}

/** A CA, and a leaf it signs for `subject` (SAN DNS:localhost for the server); rustls wants real v3 extensions. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
}
function makeLeaf(name: string, ca: string, usage: 'serverAuth' | 'clientAuth'): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  fs.writeFileSync(file(`${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\nsubjectAltName=DNS:localhost\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

let terminator: tls.Server;
let terminatorAddress: string;
const handshakes = { authorized: 0, refused: 0 };
let python: Service | undefined;

beforeAll(async () => {
  makeCa('ca');
  makeLeaf('server', 'ca', 'serverAuth');
  makeLeaf('client', 'ca', 'clientAuth');
  makeCa('rogue-ca');
  makeLeaf('rogue-client', 'rogue-ca', 'clientAuth');

  const [upstreamHost, upstreamPort] = testAddress().split(':') as [string, string];
  terminator = tls.createServer(
    { key: fs.readFileSync(file('server.key')), cert: fs.readFileSync(file('server.pem')), ca: fs.readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      handshakes.authorized += 1;
      const upstream = net.connect(Number(upstreamPort), upstreamHost);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  terminator.on('tlsClientError', () => (handshakes.refused += 1));
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  terminatorAddress = `127.0.0.1:${(terminator.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  await python?.stop();
  await new Promise((resolve) => terminator?.close(resolve));
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  fs.rmSync(folder, { recursive: true, force: true });
});

function useTls(clientPair: 'client' | 'rogue-client' | undefined): Record<string, string> {
  for (const name of TLS_VARIABLES) delete process.env[name];
  const env: Record<string, string> = {
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
    // The certificate names localhost; the test connects to 127.0.0.1.
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...(clientPair ? { TEMPORAL_TLS_CLIENT_CERT_PATH: file(`${clientPair}.pem`), TEMPORAL_TLS_CLIENT_KEY_PATH: file(`${clientPair}.key`) } : {}),
  };
  Object.assign(process.env, env);
  return env;
}

test('the client, the Node worker and the Python worker all run a workflow over mTLS', async () => {
  const env = useTls('client');
  python = await startPythonWorker(GPU_CLASS, { ...env, TEMPORAL_ADDRESS: terminatorAddress });
  const client = await connectClient(terminatorAddress);
  const worker = await createNodeWorker({ address: terminatorAddress, workflowBundlePath: process.env.LLMLOOP_TEST_WORKFLOW_BUNDLE! });
  const handle = await client.workflow.start(healthCheck, { taskQueue: 'llmloop-cpu', workflowId: `tls-${randomUUID()}`, args: [{ gpu_class: GPU_CLASS }] });
  const report = await worker.runUntil(handle.result());
  expect(report.python.language).toBe('python');
  // Client, Node worker and Python worker each completed a handshake with a certificate the CA signed.
  expect(handshakes.authorized).toBeGreaterThanOrEqual(3);
  await client.connection.close();
});

test('no client certificate, or one from another CA, is refused by the mTLS endpoint: a typed error, no plaintext retry', async () => {
  for (const pair of [undefined, 'rogue-client'] as const) {
    useTls(pair);
    const refusedBefore = handshakes.refused;
    await expect(connectClient(terminatorAddress)).rejects.toMatchObject({ type: 'TemporalUnreachable', message: expect.stringContaining('TLS') });
    expect(handshakes.refused).toBeGreaterThan(refusedBefore);
  }
});

test('TLS settings against a plaintext server fail instead of falling back to plaintext', async () => {
  useTls('client');
  await expect(connectClient(testAddress())).rejects.toMatchObject({ type: 'TemporalUnreachable' });
});
