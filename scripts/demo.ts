/**
 * `make demo`: the main job end to end on the embedded defaults, then everything it started is stopped.
 */
import { TASK_QUEUE_CPU, loadConfig } from '../core/config';
import { startLocalStack } from '../core/stack';
import { connectClient } from '../core/temporal';
import type { HealthReport } from '../schemas/generated/types';

async function main(): Promise<void> {
  const config = loadConfig();
  console.log(`[demo] data dir ${config.dataDir}`);
  const stack = await startLocalStack({ ui: true });
  const stopOnSignal = () => void stack.stop().then(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    console.log(`[demo] Temporal at ${stack.address}${stack.uiUrl ? ` — UI: ${stack.uiUrl}/namespaces/${config.temporalNamespace}/workflows` : ''}`);
    const client = await connectClient(stack.address);
    const report = await client.workflow.execute<(input: { gpu_class: string }) => Promise<HealthReport>>('healthCheck', {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `demo-health-${Date.now()}`,
      args: [{ gpu_class: config.gpuClass }],
    });
    console.log(`[demo] health check: ${report.node.runtime_version} + ${report.python.runtime_version} on ${report.python.task_queue}`);
  } finally {
    await stack.stop();
    console.log('[demo] stopped everything it started');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
