/**
 * The feedback loop's consumption rule on a real dev server: scheduledRetraining reads the request log
 * from the committed cursor (collectFeedback, real activities, a log written by the gateway's own
 * RequestLog with a user's low score), hands the tasks to its lifecycle child and commits the cursor
 * only when that lifecycle ends without being cancelled. A failed or cancelled lifecycle, or a worker
 * crash while it runs, leaves the cursor where it was, so the next run reads the same requests again.
 * The lifecycle is a stand-in (tests/helpers/retraining-stub-workflows.ts) whose outcome the test picks.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as activities from '../../activities';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { RequestLog } from '../../router/request-log';
import type { FeedbackTask, LifecycleInput, ScheduledRetrainingInput, ScheduledRetrainingResult } from '../../schemas/generated/types';
import { recordHistory } from '../helpers/histories';
import { testAddress, testClient } from '../helpers/temporal';

jest.setTimeout(180_000);

const QUEUE = `feedback-cursor-${randomUUID()}`;

describe('scheduledRetraining commits the feedback cursor only after a lifecycle that was not cancelled', () => {
  let client: Client;
  let connection: NativeConnection;
  let logFile: string;
  let log: RequestLog;
  let worker: Worker;
  let running: Promise<void>;

  async function startWorker(): Promise<void> {
    worker = await Worker.create({
      connection,
      taskQueue: QUEUE,
      workflowsPath: require.resolve('../helpers/retraining-stub-workflows'),
      activities: { collectFeedbackTasks: activities.collectFeedbackTasks, commitFeedbackCursor: activities.commitFeedbackCursor },
    });
    running = worker.run();
  }

  beforeAll(async () => {
    client = await testClient();
    connection = await NativeConnection.connect({ address: testAddress() });
    logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-feedback-')), 'requests.jsonl');
    log = new RequestLog(logFile, {}, (err) => {
      throw err;
    });
    await startWorker();
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await log.close();
    await connection.close();
  });

  /** One answered request whose user scored it `score` (through the log, as POST /v1/feedback does). */
  async function answeredAndScored(prompt: string, score: number): Promise<string> {
    const messages = [{ role: 'user', content: prompt }];
    const { sha256 } = await artifactStoreFromEnv().putJson(messages);
    const request_id = randomUUID();
    const ts = new Date().toISOString();
    log.append({ type: 'request', ts, request_id, prompt_sha256: sha256, requested_model: 'auto', model: 'smollm2-135m', cluster: 0, cluster_similarity: 0.9, table_version: null, status: 200, latency_ms: 5, cost: 0.0001, stream: false, attempts: [{ model: 'smollm2-135m', outcome: 'ok' }] });
    log.append({ type: 'feedback', ts, request_id, score, comment: 'wrong' });
    await log.close(); // flushed before the activity reads it
    return request_id;
  }

  async function retrain(outcome: 'ok' | 'cancel' | 'fail' | 'wait') {
    const input: ScheduledRetrainingInput = {
      lifecycle: { sources: [{ path: `/stand-in/${outcome}` }], models: [{ model_id: 'smollm2-135m', recipe: 'lora' }] },
      feedback: { request_log: logFile, min_score: 0.5 },
    };
    return client.workflow.start('scheduledRetraining', { taskQueue: QUEUE, workflowId: `retrain-${outcome}-${randomUUID()}`, args: [input] });
  }

  /** The request ids of the feedback tasks the lifecycle child was started with. */
  async function tasksGivenToLifecycle(retrainingId: string): Promise<string[]> {
    const history = await client.workflow.getHandle(`${retrainingId}/lifecycle`).fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0] as Payload;
    const input = defaultPayloadConverter.fromPayload<LifecycleInput>(payload);
    if (!input.extra_samples) return [];
    const text = (await artifactStoreFromEnv().get(input.extra_samples)).toString('utf8');
    return text.trim().split('\n').map((line) => (JSON.parse(line) as FeedbackTask).request_id);
  }

  it('re-reads after a failed and a cancelled lifecycle, survives a worker restart mid-lifecycle, and moves on after one that ended', async () => {
    const first = await answeredAndScored('Which pump failed in March?', 0.1);

    const failed = await retrain('fail');
    await expect(failed.result()).rejects.toThrow();
    expect(await tasksGivenToLifecycle(failed.workflowId)).toEqual([first]);

    const cancelled = await retrain('cancel');
    const afterCancel = (await cancelled.result()) as ScheduledRetrainingResult;
    expect(afterCancel.lifecycle.status).toBe('cancelled');
    expect(await tasksGivenToLifecycle(cancelled.workflowId)).toEqual([first]);

    // The worker goes away while the lifecycle runs: a new one resumes the retraining from its history,
    // and the cursor moves only once that lifecycle has ended (a later request stays unread).
    const crashed = await retrain('wait');
    await waitFor(async () => (await tasksGivenToLifecycle(crashed.workflowId).catch(() => [])).length > 0);
    worker.shutdown();
    await running;
    await startWorker();
    const second = await answeredAndScored('How long is the warranty?', 0.2);
    await client.workflow.getHandle(`${crashed.workflowId}/lifecycle`).signal('finishLifecycle');
    const afterCrash = (await crashed.result()) as ScheduledRetrainingResult;
    expect(afterCrash.lifecycle.status).toBe('published');
    expect(await tasksGivenToLifecycle(crashed.workflowId)).toEqual([first]);
    await recordHistory(crashed, 'scheduled-retraining-feedback');

    // The committed cursor sits after the first request: only the second is read now.
    const next = await retrain('ok');
    const afterOk = (await next.result()) as ScheduledRetrainingResult;
    expect(afterOk.feedback.tasks).toBe(1);
    expect(await tasksGivenToLifecycle(next.workflowId)).toEqual([second]);
    const nothingNew = (await (await retrain('ok')).result()) as ScheduledRetrainingResult;
    expect(nothingNew.feedback.tasks).toBe(0);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}
