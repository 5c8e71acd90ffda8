/**
 * Workflow versioning (docs/lifecycle.md): runs that started on older workflow code continue on
 * today's. A replaying worker is exactly what a new Node worker is to a run in flight: it replays the
 * history the old code wrote and must emit the same commands, then carries on from the last event.
 */
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { replayRunningWorkflows } from '../../core/replay-check';
import { healthCheck } from '../../workflows';
import { HISTORY_DIR, type RecordedHistory } from '../helpers/histories';
import { testClient, testNodeWorker } from '../helpers/temporal';
import { documentedPatches } from '../helpers/versioning';

jest.setTimeout(180_000);

interface HistoryEvent {
  eventType: string;
  workflowExecutionStartedEventAttributes?: { workflowType: { name: string } };
  markerRecordedEventAttributes?: unknown;
}

const recorded = fs
  .readdirSync(HISTORY_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, ...(JSON.parse(fs.readFileSync(path.join(HISTORY_DIR, file), 'utf8')) as RecordedHistory) }));
const eventsOf = (history: unknown) => (history as { events: HistoryEvent[] }).events;
const workflowTypeOf = (history: unknown) => eventsOf(history)[0]!.workflowExecutionStartedEventAttributes!.workflowType.name;

/** Whether a history carries the marker patched(id) records (its payload names the id). */
function hasPatchMarker(history: unknown, id: string): boolean {
  return eventsOf(history).some((event) => {
    if (event.eventType !== 'EVENT_TYPE_MARKER_RECORDED') return false;
    const datas = JSON.stringify(event.markerRecordedEventAttributes).match(/"data":"([^"]*)"/g) ?? [];
    return datas.some((d) => Buffer.from(d.slice(8, -1), 'base64').toString('utf8').includes(id));
  });
}

async function replayAll(histories: HistoryAndWorkflowId[]): Promise<string[]> {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: process.env.LLMLOOP_TEST_WORKFLOW_BUNDLE! } }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return failures;
}

test('every patched workflow keeps a recorded history from before its patch, and it replays through the old branch', async () => {
  const patches = documentedPatches().filter((p) => p.state === 'patched');
  expect(patches.length).toBeGreaterThan(0);
  const prePatch = patches.map((patch) => ({ patch, history: recorded.find((h) => workflowTypeOf(h.history) === patch.workflow && !hasPatchMarker(h.history, patch.id)) }));
  expect(prePatch.filter((p) => !p.history).map((p) => p.patch.id)).toEqual([]);
  const failures = await replayAll(prePatch.map(({ history }) => ({ workflowId: history!.workflow_id, history: historyFromJSON(history!.history) })));
  expect(failures).toEqual([]);
});

test('a lifecycle in flight on the old code, cut wherever it waited, continues on the new code', async () => {
  const lifecycle = recorded.find((h) => workflowTypeOf(h.history) === 'lifecycle')!;
  const events = eventsOf(lifecycle.history);
  // Each completed workflow task is a point where the old worker handed the run back to the server:
  // the history up to there is what a new worker finds when it takes the run over.
  const cuts = events.flatMap((event, index) => (event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED' ? [index + 1] : []));
  expect(cuts.length).toBeGreaterThanOrEqual(10);
  const prefixes = [...cuts, events.length].map((cut) => ({
    workflowId: lifecycle.workflow_id,
    history: historyFromJSON({ ...(lifecycle.history as object), events: events.slice(0, cut) }),
  }));
  expect(await replayAll(prefixes)).toEqual([]);
});

test('the check is not vacuous: a run whose old code started a different child does not replay', async () => {
  const lifecycle = recorded.find((h) => workflowTypeOf(h.history) === 'lifecycle')!;
  const altered = JSON.parse(JSON.stringify(lifecycle.history).replace('"name":"ingestDocuments"', '"name":"ingestDocumentsBeforeARename"'));
  const failures = await replayAll([{ workflowId: lifecycle.workflow_id, history: historyFromJSON(altered) }]);
  expect(failures).toEqual([expect.stringMatching(/nondetermin/i)]);
});

test('the pre-deploy check replays a workflow that is running on the server right now', async () => {
  const client = await testClient();
  const worker = await testNodeWorker();
  // No Python worker serves this class: the run stops after its Node activity, waiting, as runs do at deploy time.
  const handle = await client.workflow.start(healthCheck, { taskQueue: 'llmloop-cpu', workflowId: `versioning-running-${randomUUID()}`, args: [{ gpu_class: 'versioning-no-worker' }] });
  await worker.runUntil(async () => {
    for (;;) {
      const events = (await handle.fetchHistory()).events ?? [];
      if (events.filter((e) => e.activityTaskScheduledEventAttributes).length === 2) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  const check = await replayRunningWorkflows(client, { workflowBundle: { codePath: process.env.LLMLOOP_TEST_WORKFLOW_BUNDLE! } }, `WorkflowId="${handle.workflowId}"`);
  await handle.terminate('test done');
  expect(check).toEqual({ replayed: 1, failures: [] });
});
