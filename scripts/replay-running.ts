/**
 * Before deploying new workflow code: replays every running workflow of TEMPORAL_NAMESPACE against
 * workflows/ as built here, and exits 1 when one would not replay (docs/lifecycle.md, Workflow versioning).
 *   node dist/scripts/replay-running.js [--query '<visibility query>']
 */
import path from 'node:path';
import { replayRunningWorkflows } from '../core/replay-check';
import { connectClient } from '../core/temporal';

async function main(): Promise<void> {
  const queryIndex = process.argv.indexOf('--query');
  const query = queryIndex > 0 ? process.argv[queryIndex + 1] : undefined;
  const client = await connectClient();
  const { replayed, failures } = await replayRunningWorkflows(client, { workflowsPath: require.resolve(path.join(__dirname, '..', 'workflows')) }, query);
  for (const failure of failures) console.error(`${failure.workflowId} (${failure.runId}): ${failure.message}`);
  console.log(`${replayed} running workflow(s) replayed, ${failures.length} would break on this code`);
  await client.connection.close();
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
