import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { TASK_QUEUE_CPU } from '../../core/config';
import { connectClient } from '../../core/temporal';
import type { Command } from '../command';
import { DEFAULT_LIFECYCLE_CONFIG, lifecycleInput } from '../lifecycle-input';

const USAGE = `llmloop schedule create ID --cron EXPR [--config FILE] [--request-log FILE] [--paused] DOCS...
llmloop schedule list
llmloop schedule pause ID [--note TEXT]
llmloop schedule unpause ID [--note TEXT]
llmloop schedule trigger ID
llmloop schedule delete ID

Temporal Schedules that start scheduled retraining (workflow scheduledRetraining): collect feedback
from the gateway's request log (--request-log, default $LLMLOOP_DATA_DIR/routing/requests.jsonl), then
run the lifecycle on DOCS with the config (default ${DEFAULT_LIFECYCLE_CONFIG}) plus those tasks.
A new run is skipped while the previous one is still going (overlap policy SKIP).
--cron takes a standard cron expression in UTC, e.g. "0 2 * * *" for nightly at 02:00.`;

type Action = (client: Client, id: string | undefined, values: Record<string, string | boolean | undefined>, docs: string[]) => Promise<void>;

function requireId(id: string | undefined): string {
  if (!id) throw new Error(`a schedule ID is required\n\n${USAGE}`);
  return id;
}

const ACTIONS: Record<string, Action> = {
  async create(client, id, values, docs) {
    const scheduleId = requireId(id);
    if (typeof values.cron !== 'string') throw new Error('schedule create needs --cron EXPR');
    const lifecycle = lifecycleInput(docs, typeof values.config === 'string' ? values.config : undefined);
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [values.cron] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { paused: values.paused === true, ...(values.paused === true ? { note: 'created paused' } : {}) },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledRetraining',
        taskQueue: TASK_QUEUE_CPU,
        workflowId: `retrain-${scheduleId}`,
        args: [{ lifecycle, feedback: typeof values['request-log'] === 'string' ? { request_log: values['request-log'] } : {} }],
      },
    });
    console.log(`created schedule ${scheduleId} (${values.cron}, overlap SKIP${values.paused ? ', paused' : ''})`);
  },
  async list(client) {
    for await (const schedule of client.schedule.list()) {
      const next = schedule.info.nextActionTimes[0]?.toISOString() ?? '-';
      const last = schedule.info.recentActions.at(-1)?.takenAt.toISOString() ?? '-';
      console.log(`${schedule.scheduleId}\t${schedule.state.paused ? 'paused' : 'active'}\tnext ${next}\tlast ${last}`);
    }
  },
  async pause(client, id, values) {
    await client.schedule.getHandle(requireId(id)).pause(typeof values.note === 'string' ? values.note : 'paused from llmloop CLI');
    console.log(`paused ${id}`);
  },
  async unpause(client, id, values) {
    await client.schedule.getHandle(requireId(id)).unpause(typeof values.note === 'string' ? values.note : 'unpaused from llmloop CLI');
    console.log(`unpaused ${id}`);
  },
  async trigger(client, id) {
    await client.schedule.getHandle(requireId(id)).trigger(ScheduleOverlapPolicy.SKIP);
    console.log(`triggered ${id}`);
  },
  async delete(client, id) {
    await client.schedule.getHandle(requireId(id)).delete();
    console.log(`deleted ${id}`);
  },
};

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'manage Temporal Schedules for retraining: create | list | pause | unpause | trigger | delete',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cron: { type: 'string' },
        config: { type: 'string' },
        'request-log': { type: 'string' },
        note: { type: 'string' },
        paused: { type: 'boolean', default: false },
      },
    });
    const [verb, id, ...docs] = positionals;
    const action = verb ? ACTIONS[verb] : undefined;
    if (!action) throw new Error(`unknown schedule action '${verb ?? ''}'\n\n${USAGE}`);
    await action(await connectClient(), id, values, docs);
    return 0;
  },
};
