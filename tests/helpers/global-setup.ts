/**
 * Once per integration run: one real Temporal dev server (unless TEMPORAL_ADDRESS points at one),
 * one workflow bundle, one data dir. Test workers inherit the environment set here.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../core/config';
import { startDevServer, type DevServer } from '../../core/devserver';

declare global {
  var __llmloopDevServer: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const runDir = path.join(REPO_ROOT, '.data', `test-${process.pid}`);
  fs.mkdirSync(runDir, { recursive: true });
  process.env.LLMLOOP_DATA_DIR ??= runDir;
  if (!process.env.TEMPORAL_ADDRESS) {
    globalThis.__llmloopDevServer = await startDevServer({ logFile: path.join(runDir, 'temporal-dev.log') });
    process.env.TEMPORAL_ADDRESS = globalThis.__llmloopDevServer.address;
  }
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(REPO_ROOT, 'workflows')), logger: quietLogger });
  const bundlePath = path.join(runDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  process.env.LLMLOOP_TEST_WORKFLOW_BUNDLE = bundlePath;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
