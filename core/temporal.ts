import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from './codec';
import { loadConfig } from './config';
import { TypedError } from './errors';

/**
 * Connects to TEMPORAL_ADDRESS (default localhost:7233) in TEMPORAL_NAMESPACE. When no server
 * answers, a typed TemporalUnreachable that names the address tried and how to get a server,
 * instead of the SDK's bare "Failed to connect before the deadline".
 */
export async function connectClient(address = loadConfig().temporalAddress ?? 'localhost:7233'): Promise<Client> {
  const dataConverter = dataConverterFromEnv();
  const connection = await Connection.connect({ address }).catch((err: unknown) => {
    throw new TypedError(
      'TemporalUnreachable',
      `no Temporal server answered at ${address} (${err instanceof Error ? err.message : String(err)}). Start one with 'make demo' (dev server, workers and web UI) or 'temporal server start-dev', or set TEMPORAL_ADDRESS to your server's host:port.`,
      { address },
    );
  });
  return new Client({ connection, namespace: loadConfig().temporalNamespace, ...(dataConverter ? { dataConverter } : {}) });
}
