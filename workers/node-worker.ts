/**
 * The Node worker: every workflow, and the CPU activities (parsing, datasets, clustering, routing),
 * on task queue llmloop-cpu. Run any number of these; Temporal spreads the work.
 *   node dist/workers/node-worker.js
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import * as activities from '../activities';
import { dataConverterFromEnv } from '../core/codec';
import { loadConfig, TASK_QUEUE_CPU } from '../core/config';
import { metricsPortFromEnv, startWorkerMetrics } from './metrics';
import { sdkConnectionOptions, temporalConnectionOptions } from '../core/temporal';

export interface NodeWorkerOptions {
  address?: string;
  /** A prebuilt workflow bundle (tests bundle once); otherwise workflows/ is bundled at start. */
  workflowBundlePath?: string;
  extra?: Partial<WorkerOptions>;
}

export async function createNodeWorker(options: NodeWorkerOptions = {}): Promise<Worker> {
  const config = loadConfig();
  const dataConverter = dataConverterFromEnv();
  // TLS, mTLS and the API key come from the same TEMPORAL_* variables as every client's (core/temporal.ts).
  const connection = await NativeConnection.connect(sdkConnectionOptions(temporalConnectionOptions(process.env, options.address)));
  // The failure converter that seals failure messages runs inside workflows, so it must be bundled with
  // them: a prebuilt bundle (made without it) is only usable when there is no codec.
  const prebuilt = dataConverter?.failureConverterPath ? undefined : options.workflowBundlePath;
  return Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: TASK_QUEUE_CPU,
    ...(prebuilt
      ? { workflowBundle: { codePath: prebuilt } }
      : { workflowsPath: require.resolve(path.join(__dirname, '..', 'workflows')) }),
    activities,
    ...(dataConverter ? { dataConverter } : {}),
    ...options.extra,
  });
}

if (require.main === module) {
  const metricsPort = metricsPortFromEnv();
  // The SDK's Runtime must be installed before the worker's connection exists.
  (metricsPort === undefined ? Promise.resolve() : startWorkerMetrics(metricsPort).then((m) => console.log(`[node-worker] metrics on :${m.port}/metrics`)))
    .then(() => createNodeWorker())
    .then((worker) => {
      console.log(`[node-worker] serving ${TASK_QUEUE_CPU}`);
      return worker.run();
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
