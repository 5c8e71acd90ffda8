import { Client, Connection, type TLSConfig } from '@temporalio/client';
import fs from 'node:fs';
import { dataConverterFromEnv } from './codec';
import { loadConfig } from './config';
import { TypedError } from './errors';

/**
 * How every client and worker reaches Temporal: address, TLS (mTLS with a client certificate) and an
 * API key, from the environment variables Temporal's SDKs read themselves (its "environment
 * configuration"; the Python worker passes the same variables to temporalio.envconfig, see
 * trainers/temporal_connection.py):
 *
 *   TEMPORAL_ADDRESS                         host:port (default localhost:7233)
 *   TEMPORAL_TLS                             true | false; TLS is on when unset but anything below is set
 *   TEMPORAL_TLS_SERVER_CA_CERT_PATH|_DATA   CA that signed the server's certificate (default: system roots)
 *   TEMPORAL_TLS_CLIENT_CERT_PATH|_DATA      client certificate for mTLS ...
 *   TEMPORAL_TLS_CLIENT_KEY_PATH|_DATA       ... and its key (both or neither)
 *   TEMPORAL_TLS_SERVER_NAME                 name the server certificate must carry, when not the address's host
 *   TEMPORAL_API_KEY                         sent as a bearer token; needs TLS
 *
 * Never a silent plaintext connection: a contradiction (TEMPORAL_TLS=false with certificates or an API
 * key), half a client pair, an unreadable file or a request to skip host verification is a typed
 * InvalidRequest before anything connects, and a TLS connection to a plaintext server fails.
 */
export interface TemporalConnectionOptions {
  address: string;
  /** false: plaintext (nothing TLS-related configured). */
  tls: TLSConfig | false;
  apiKey?: string;
}

function connectionConfigError(message: string): TypedError {
  return new TypedError('InvalidRequest', `Temporal connection settings: ${message}`);
}

/** A PEM from `<prefix>_PATH` (a file) or `<prefix>_DATA` (inline), never both. */
function pemFromEnv(env: NodeJS.ProcessEnv, prefix: string): Buffer | undefined {
  const file = env[`${prefix}_PATH`]?.trim();
  const inline = env[`${prefix}_DATA`]?.trim();
  if (file && inline) throw connectionConfigError(`set ${prefix}_PATH or ${prefix}_DATA, not both`);
  if (inline) return Buffer.from(inline);
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw connectionConfigError(`cannot read ${prefix}_PATH '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function booleanFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw connectionConfigError(`${name} is true or false, got '${env[name]}'`);
}

export function temporalConnectionOptions(env: NodeJS.ProcessEnv = process.env, address = loadConfig(env).temporalAddress ?? 'localhost:7233'): TemporalConnectionOptions {
  if (booleanFromEnv(env, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION')) {
    throw connectionConfigError('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported: give the server CA (TEMPORAL_TLS_SERVER_CA_CERT_PATH) and, if needed, TEMPORAL_TLS_SERVER_NAME');
  }
  const tlsSetting = booleanFromEnv(env, 'TEMPORAL_TLS');
  const serverCa = pemFromEnv(env, 'TEMPORAL_TLS_SERVER_CA_CERT');
  const clientCert = pemFromEnv(env, 'TEMPORAL_TLS_CLIENT_CERT');
  const clientKey = pemFromEnv(env, 'TEMPORAL_TLS_CLIENT_KEY');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim() || undefined;
  const apiKey = env.TEMPORAL_API_KEY?.trim() || undefined;
  if (Boolean(clientCert) !== Boolean(clientKey)) {
    throw connectionConfigError('mTLS needs both TEMPORAL_TLS_CLIENT_CERT_* and TEMPORAL_TLS_CLIENT_KEY_*; only one is set');
  }
  const tlsMaterial = Boolean(serverCa || clientCert || serverName);
  if (tlsSetting === false) {
    if (tlsMaterial) throw connectionConfigError('TEMPORAL_TLS=false contradicts the TEMPORAL_TLS_* certificate settings; remove one or the other');
    if (apiKey) throw connectionConfigError('TEMPORAL_API_KEY over a plaintext connection (TEMPORAL_TLS=false) would send the key in clear');
    return { address, tls: false };
  }
  const useTls = tlsSetting === true || tlsMaterial || Boolean(apiKey);
  const tls: TLSConfig | false = useTls
    ? {
        ...(serverCa ? { serverRootCACertificate: serverCa } : {}),
        ...(clientCert && clientKey ? { clientCertPair: { crt: clientCert, key: clientKey } } : {}),
        ...(serverName ? { serverNameOverride: serverName } : {}),
      }
    : false;
  return { address, tls, ...(apiKey ? { apiKey } : {}) };
}

/** What Connection.connect and NativeConnection.connect take (their option types differ only in what we do not set). */
export function sdkConnectionOptions(options: TemporalConnectionOptions): { address: string; tls?: TLSConfig; apiKey?: string } {
  return { address: options.address, ...(options.tls ? { tls: options.tls } : {}), ...(options.apiKey ? { apiKey: options.apiKey } : {}) };
}

/** "address (TLS, client certificate, API key)" for messages: which settings were in force, never their values. */
export function describeConnection(options: TemporalConnectionOptions): string {
  const parts = options.tls ? ['TLS', ...(options.tls.clientCertPair ? ['client certificate'] : []), ...(options.apiKey ? ['API key'] : [])] : ['plaintext'];
  return `${options.address} (${parts.join(', ')})`;
}

/**
 * Connects to TEMPORAL_ADDRESS (default localhost:7233) in TEMPORAL_NAMESPACE, with the TLS and API key
 * settings above. When no server answers, a typed TemporalUnreachable that names the address tried
 * and how to get a server, instead of the SDK's bare "Failed to connect before the deadline".
 */
export async function connectClient(address?: string): Promise<Client> {
  const dataConverter = dataConverterFromEnv();
  const options = temporalConnectionOptions(process.env, address);
  const connection = await Connection.connect(sdkConnectionOptions(options)).catch((err: unknown) => {
    throw new TypedError(
      'TemporalUnreachable',
      `no Temporal server answered at ${describeConnection(options)} (${err instanceof Error ? err.message : String(err)}). Start one with 'make demo' (dev server, workers and web UI) or 'temporal server start-dev', or set TEMPORAL_ADDRESS to your server's host:port (and TEMPORAL_TLS_* / TEMPORAL_API_KEY as docs/deploy.md describes).`,
      { address: options.address },
    );
  });
  return new Client({ connection, namespace: loadConfig().temporalNamespace, ...(dataConverter ? { dataConverter } : {}) });
}
