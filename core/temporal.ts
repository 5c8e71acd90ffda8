import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from './codec';
import { loadConfig } from './config';

/** Connects to TEMPORAL_ADDRESS (default localhost:7233) in TEMPORAL_NAMESPACE. */
export async function connectClient(address = loadConfig().temporalAddress ?? 'localhost:7233'): Promise<Client> {
  const connection = await Connection.connect({ address });
  const dataConverter = dataConverterFromEnv();
  return new Client({ connection, namespace: loadConfig().temporalNamespace, ...(dataConverter ? { dataConverter } : {}) });
}
