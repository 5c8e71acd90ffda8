/**
 * Runs a command next to one real Temporal dev server and stops the server afterwards:
 *   node dist/scripts/with-dev-server.js [--db FILE] [--ui] -- CMD ARGS...
 * The command sees TEMPORAL_ADDRESS. When TEMPORAL_ADDRESS is already set, nothing is started.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../core/config';
import { startDevServer, type DevServer } from '../core/devserver';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const split = argv.indexOf('--');
  if (split < 0 || split === argv.length - 1) throw new Error('usage: with-dev-server [--db FILE] [--ui] -- CMD ARGS...');
  const own = argv.slice(0, split);
  const [cmd, ...args] = argv.slice(split + 1);
  const dbIndex = own.indexOf('--db');

  let server: DevServer | undefined;
  const env = { ...process.env };
  if (!env.TEMPORAL_ADDRESS) {
    const logFile = path.join(loadConfig().dataDir, 'temporal-dev.log');
    server = await startDevServer({
      ...(dbIndex >= 0 ? { dbFile: own[dbIndex + 1] } : {}),
      ...(own.includes('--ui') ? { uiPort: 0 } : {}),
      logFile,
    });
    env.TEMPORAL_ADDRESS = server.address;
    console.error(`[dev-server] temporal at ${server.address}${server.uiUrl ? `, UI ${server.uiUrl}` : ''}`);
  }
  const child = spawn(cmd!, args, { stdio: 'inherit', env });
  const stopOnSignal = () => child.kill('SIGTERM');
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  await server?.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
