import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { TASK_QUEUE_CPU } from '../../core/config';
import { connectClient } from '../../core/temporal';
import { EXIT, UsageError, type Command } from '../command';
import { DEFAULT_LIFECYCLE_CONFIG, lifecycleInput } from '../lifecycle-input';

const USAGE = `llmloop schedule create ID --cron EXPR [--config FILE] [--request-log FILE] [--paused] DOCS...
llmloop schedule list [--json]
llmloop schedule pause ID [--note TEXT]
llmloop schedule unpause ID [--note TEXT]
llmloop schedule trigger ID
llmloop schedule delete ID

Temporal Schedules that start scheduled retraining (workflow scheduledRetraining): collect feedback
from the gateway's request log (--request-log, default $LLMLOOP_DATA_DIR/routing/requests.jsonl), then
run the lifecycle on DOCS with the config (default ${DEFAULT_LIFECYCLE_CONFIG}) plus those tasks.
A new run is skipped while the previous one is still going (overlap policy SKIP).
--cron takes a standard cron expression in UTC, e.g. "0 2 * * *" for nightly at 02:00.`;

/** Each action checks its arguments before it connects, so a usage error never waits on a server. */
type Action = (connect: () => Promise<Client>, id: string | undefined, values: Record<string, string | boolean | undefined>, docs: string[]) => Promise<void>;

function requireId(id: string | undefined): string {
  if (!id) throw new UsageError('a schedule ID is required');
  return id;
}

const ACTIONS: Record<string, Action> = {
  async create(connect, id, values, docs) {
    const scheduleId = requireId(id);
    if (typeof values.cron !== 'string') throw new UsageError('--cron EXPR is required');
    if (docs.length === 0) throw new UsageError('at least one document or folder (DOCS) is required');
    const lifecycle = lifecycleInput(docs, typeof values.config === 'string' ? values.config : undefined);
    await (await connect()).schedule.create({
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
  async list(connect, _id, values) {
    const schedules = [];
    for await (const schedule of (await connect()).schedule.list()) {
      schedules.push({
        id: schedule.scheduleId,
        state: schedule.state.paused ? 'paused' : 'active',
        next: schedule.info.nextActionTimes[0]?.toISOString() ?? null,
        last: schedule.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
      });
    }
    if (values.json) console.log(JSON.stringify(schedules, null, 2));
    else if (schedules.length === 0) console.error('no schedules (create one with: llmloop schedule create ID --cron EXPR DOCS...)');
    else for (const s of schedules) console.log(`${s.id}\t${s.state}\tnext ${s.next ?? '-'}\tlast ${s.last ?? '-'}`);
  },
  async pause(connect, id, values) {
    const scheduleId = requireId(id);
    await (await connect()).schedule.getHandle(scheduleId).pause(typeof values.note === 'string' ? values.note : 'paused from llmloop CLI');
    console.log(`paused ${id}`);
  },
  async unpause(connect, id, values) {
    const scheduleId = requireId(id);
    await (await connect()).schedule.getHandle(scheduleId).unpause(typeof values.note === 'string' ? values.note : 'unpaused from llmloop CLI');
    console.log(`unpaused ${id}`);
  },
  async trigger(connect, id) {
    const scheduleId = requireId(id);
    await (await connect()).schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
    console.log(`triggered ${id}`);
  },
  async delete(connect, id) {
    const scheduleId = requireId(id);
    await (await connect()).schedule.getHandle(scheduleId).delete();
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
        json: { type: 'boolean', default: false },
      },
    });
    const [verb, id, ...docs] = positionals;
    const action = verb !== undefined && Object.hasOwn(ACTIONS, verb) ? ACTIONS[verb] : undefined;
    if (!action) throw new UsageError(verb === undefined ? `an action is required: ${Object.keys(ACTIONS).join(' | ')}` : `unknown action '${verb}' (known: ${Object.keys(ACTIONS).join(' | ')})`);
    await action(() => connectClient(), id, values, docs);
    return EXIT.ok;
  },
};
