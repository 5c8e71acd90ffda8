import { WorkflowNotFoundError } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { connectClient } from '../../core/temporal';
import { TypedError } from '../../core/errors';
import { EXIT, UsageError, type Command } from '../command';
import { describeProgress } from './run';

export const statusCommand: Command = {
  name: 'status',
  summary: "show a lifecycle run's progress (stage, per-stage counts, ETA, artifacts) and its result once finished",
  usage: `llmloop status RUN_ID [--json]

RUN_ID is the lifecycle workflow id printed by 'llmloop run'. A Node worker must be running to answer the query.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
    const [runId] = positionals;
    if (!runId) throw new UsageError('a RUN_ID is required');
    const client = await connectClient();
    const handle = client.workflow.getHandle(runId);
    const description = await handle.describe().catch((err: unknown) => {
      throw err instanceof WorkflowNotFoundError ? new TypedError('RunNotFound', `no run with id ${runId} (list them with: temporal workflow list --query 'WorkflowType="lifecycle"')`) : err;
    });
    const { progress, text } = await describeProgress(client, handle);
    if (values.json) {
      console.log(JSON.stringify({ status: description.status.name, progress }, null, 2));
      return EXIT.ok;
    }
    console.log(`${runId}: ${description.status.name}\n${text}`);
    if (description.status.name === 'COMPLETED') console.log(JSON.stringify(await handle.result(), null, 2));
    return EXIT.ok;
  },
};
