/** Helpers for integration tests: a client and workers on the run's real dev server. */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { pythonExecutable, REPO_ROOT } from '../../core/config';
import { connectClient } from '../../core/temporal';
import { createNodeWorker } from '../../workers/node-worker';
import { DefaultLogger, Runtime, type WorkerOptions } from '@temporalio/worker';

// Worker lifecycle chatter hides test failures; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

export function testAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: integration tests run under tests/helpers/global-setup.ts');
  return address;
}

export function testClient(): Promise<Client> {
  return connectClient(testAddress());
}

export function testNodeWorker(extra?: Partial<WorkerOptions>): Promise<Worker> {
  return createNodeWorker({ address: testAddress(), workflowBundlePath: process.env.LLMLOOP_TEST_WORKFLOW_BUNDLE!, ...(extra ? { extra } : {}) });
}

export interface PythonWorkerProcess {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts `python -m trainers.worker --queue QUEUE` and resolves once it serves. */
export async function startPythonWorker(queue: string, env: NodeJS.ProcessEnv = {}): Promise<PythonWorkerProcess> {
  const child = spawn(pythonExecutable(), ['-m', 'trainers.worker', '--queue', queue], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python worker did not start in 120 s:\n${log}`)), 120_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('[python-worker] serving')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`python worker exited with ${code}:\n${log}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { process: child, output: () => log, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
