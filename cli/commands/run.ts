import type { Client, WorkflowHandle } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { TASK_QUEUE_CPU } from '../../core/config';
import { connectClient } from '../../core/temporal';
import type { LifecycleInput, LifecycleProgress, LifecycleResult } from '../../schemas/generated/types';
import { EXIT, UsageError, type Command } from '../command';
import { DEFAULT_LIFECYCLE_CONFIG, lifecycleInput } from '../lifecycle-input';
import { pollUntilSettled, ProgressPrinter, renderProgress, summariseChildProgress } from '../progress';
import { describeTraining } from '../training-progress';

export function lifecycleWorkflowId(now = new Date()): string {
  return `lifecycle-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export async function startLifecycle(client: Client, input: LifecycleInput, workflowId = lifecycleWorkflowId()): Promise<WorkflowHandle> {
  return client.workflow.start('lifecycle', { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] });
}

/** The parent's progress plus a summary of the running child's own progress query. */
export async function describeProgress(client: Client, handle: WorkflowHandle): Promise<{ progress: LifecycleProgress; text: string }> {
  const progress = await handle.query<LifecycleProgress>('progress');
  const detail: Record<string, string> = {};
  for (const stage of progress.stages.filter((s) => s.status === 'running' && s.workflow_id)) {
    if (stage.stage === 'train') {
      // Steps, loss and ETA live in the training activities' heartbeats: one part per model.
      detail[stage.stage] = (await describeTraining(client, stage.workflow_id!).catch(() => [])).join(' | ');
    } else if (stage.progress_query) {
      // A child between workflow tasks may not answer yet: its line then shows no detail.
      const child = await client.workflow
        .getHandle(stage.workflow_id!)
        .query<unknown>(stage.progress_query)
        .catch(() => undefined);
      detail[stage.stage] = summariseChildProgress(child);
    }
  }
  return { progress, text: renderProgress(progress, detail) };
}

/** Polls progress until the run ends; returns its result. */
export async function followLifecycle(client: Client, handle: WorkflowHandle, onText: (text: string) => void, intervalMs = 1000): Promise<LifecycleResult> {
  // A query fails while no worker answers (a restart, a chaos kill); the next poll shows the progress.
  const show = () => describeProgress(client, handle).then(({ text }) => onText(text), () => undefined);
  return pollUntilSettled(handle.result() as Promise<LifecycleResult>, show, intervalMs);
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run the whole lifecycle (parse → dataset → train → evaluate → publish) on documents, following progress',
  usage: `llmloop run DOCS... [--config FILE] [--id WORKFLOW_ID] [--detach]

DOCS are files or folders (.pdf .docx .pptx .xlsx; folders are searched recursively) that the
Node workers can read. --config is a JSON LifecycleInput without "sources"
(default ${DEFAULT_LIFECYCLE_CONFIG}). --detach prints the workflow id and returns at once;
follow it later with 'llmloop status ID'.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, id: { type: 'string' }, detach: { type: 'boolean', default: false } },
    });
    if (positionals.length === 0) throw new UsageError('at least one document or folder (DOCS) is required');
    const input = lifecycleInput(positionals, values.config);
    const client = await connectClient();
    const handle = await startLifecycle(client, input, values.id);
    console.log(`started lifecycle ${handle.workflowId} (${input.sources.length} documents)`);
    if (values.detach) return EXIT.ok;
    const printer = new ProgressPrinter();
    const result = await followLifecycle(client, handle, (text) => printer.print(text));
    console.log(JSON.stringify(result, null, 2));
    return result.status === 'cancelled' ? EXIT.failure : EXIT.ok;
  },
};
