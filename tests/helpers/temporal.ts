/** Helpers for integration tests: a client and workers on the run's real dev server. */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Service } from '../../core/services';
import { connectClient } from '../../core/temporal';
import { startPythonWorkerProcess } from '../../core/stack';
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

/** Starts the Python worker of a GPU class (queue llmloop-gpu-<class>) and resolves once it serves. */
export function startPythonWorker(gpuClass: string, env: NodeJS.ProcessEnv = {}): Promise<Service> {
  return startPythonWorkerProcess(env, undefined, gpuClass);
}

/** A running Node worker and a Python worker of the CPU class for a test file; `stop` shuts both down. */
export async function startTestWorkers(): Promise<{ stop: () => Promise<void> }> {
  const python = await startPythonWorker('cpu');
  const worker = await testNodeWorker();
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
      await python.stop();
    },
  };
}
