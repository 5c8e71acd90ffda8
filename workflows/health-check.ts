import { proxyActivities } from '@temporalio/workflow';
import type * as nodeActivities from '../activities';
import type { PythonActivities } from '../activities/python';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import { gpuTaskQueue } from '../schemas/generated/constants';
import type { HealthCheckInput, HealthReport } from '../schemas/generated/types';
import { checked } from './validation';

const { probeNodeWorker } = proxyActivities<typeof nodeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/**
 * Proves the backbone: one activity on the Node worker, one on the Python worker of a GPU class,
 * sharing the artifact store, with payloads validated against schemas/ on both sides.
 */
export async function healthCheck(input: HealthCheckInput): Promise<HealthReport> {
  const { gpu_class, simulate_failure = 'none' } = checked('HealthCheckInput', input);
  const python = proxyActivities<PythonActivities>({
    taskQueue: gpuTaskQueue(gpu_class),
    startToCloseTimeout: '60 seconds',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });

  const node = await probeNodeWorker();
  const request = checked('PythonProbeRequest', { node_artifact: node.artifact, simulate_failure });
  const pythonProbe = checked('WorkerProbe', await python.probe_python_worker(request));
  return checked('HealthReport', {
    node,
    python: pythonProbe,
    python_read_node_artifact: true,
  });
}
