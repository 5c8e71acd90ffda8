/**
 * The lifecycle's progress query on a real dev server, with stand-in stage children
 * (tests/helpers/lifecycle-stub-workflows.ts) so it takes seconds: the parent starts each child by
 * function reference, and its ETA is the one computed when the last stage finished, from workflow
 * time. A query handler cannot compute it: its clock is the last workflow task's, not the caller's.
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { lifecycleInput } from '../../cli/lifecycle-input';
import { lookupStageResult, recordStageResult } from '../../activities/lifecycle';
import { REPO_ROOT } from '../../core/config';
import type { LifecycleProgress, LifecycleResult } from '../../schemas/generated/types';
import { testAddress, testClient } from '../helpers/temporal';

jest.setTimeout(120_000);

const QUEUE = `lifecycle-progress-${randomUUID()}`;
/** STAGE_WEIGHT.ingest in workflows/lifecycle.ts: the share of the pipeline done once ingest is. */
const INGEST_SHARE = 0.05;

async function progressWhen(query: () => Promise<LifecycleProgress>, ready: (p: LifecycleProgress) => boolean): Promise<LifecycleProgress> {
  for (;;) {
    const progress = await query();
    if (ready(progress)) return progress;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('lifecycle progress', () => {
  let client: Client;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    client = await testClient();
    connection = await NativeConnection.connect({ address: testAddress() });
    worker = await Worker.create({
      connection,
      taskQueue: QUEUE,
      workflowsPath: require.resolve('../helpers/lifecycle-stub-workflows'),
      activities: { lookupStageResult, recordStageResult },
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });

  it('reports the ETA computed when a stage finished, and none before the first or after the last', async () => {
    const input = lifecycleInput([path.join(REPO_ROOT, 'samples', 'corpus', 'pump-station-report.docx')], path.join(REPO_ROOT, 'config', 'lifecycle.tiny.json'));
    const workflowId = `lifecycle-progress-${randomUUID()}`;
    const handle = await client.workflow.start('lifecycle', { taskQueue: QUEUE, workflowId, args: [input] });
    const query = () => handle.query<LifecycleProgress>('progress');

    const ingesting = await progressWhen(query, (p) => p.stage === 'ingest');
    expect(ingesting.eta_s).toBeUndefined();

    // The dataset child has started (its id is set after the stage cache lookup): later workflow tasks than ingest's end.
    const building = await progressWhen(query, (p) => p.stages[1]!.workflow_id !== undefined);
    const ingest = building.stages[0]!;
    expect(ingest.status).toBe('done');
    const elapsedS = (Date.parse(ingest.finished_at!) - Date.parse(building.started_at!)) / 1000;
    expect(elapsedS).toBeGreaterThanOrEqual(1);
    expect(building.eta_s).toBe(Math.round((elapsedS / INGEST_SHARE) * (1 - INGEST_SHARE)));

    await client.workflow.getHandle(building.stages[1]!.workflow_id!).signal('finishStage');
    const result = (await handle.result()) as LifecycleResult;
    expect(result).toMatchObject({ status: 'published', publication: 'first_table' });
    const done = await query();
    expect(done.stages.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(done.eta_s).toBeUndefined();
  });
});
