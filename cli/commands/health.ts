import { parseArgs } from 'node:util';
import { TASK_QUEUE_CPU } from '../../core/config';
import { connectClient } from '../../core/temporal';
import { EXIT, type Command } from '../command';

export const healthCommand: Command = {
  name: 'health',
  summary: 'run the cross-language health check workflow (Node + Python worker) and print its report',
  usage: `llmloop health [--gpu-class CLASS]

Starts the healthCheck workflow on ${TASK_QUEUE_CPU}; a Node worker and a Python worker serving
llmloop-gpu-CLASS (default: $LLMLOOP_GPU_CLASS or cpu) must be running.`,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { 'gpu-class': { type: 'string' } } });
    const client = await connectClient();
    const report = await client.workflow.execute('healthCheck', {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `health-check-${Date.now()}`,
      args: [{ gpu_class: values['gpu-class'] ?? process.env.LLMLOOP_GPU_CLASS ?? 'cpu' }],
    });
    console.log(JSON.stringify(report, null, 2));
    return EXIT.ok;
  },
};
