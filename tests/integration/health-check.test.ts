import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, ActivityFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { TASK_QUEUE_CPU } from '../../core/config';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { schemaProblems } from '../../core/schemas';
import { healthCheck } from '../../workflows';
import { recordHistory } from '../helpers/histories';
import { startPythonWorker, testClient, testNodeWorker, } from '../helpers/temporal';
import type { Service } from '../../core/services';

jest.setTimeout(180_000);

describe('cross-language health check on a real Temporal dev server', () => {
  let python: Service;
  beforeAll(async () => {
    python = await startPythonWorker('cpu');
  });
  afterAll(async () => {
    await python?.stop();
  });

  async function run(simulate_failure: 'none' | 'invalid_request' | 'transient_once') {
    const client = await testClient();
    const worker = await testNodeWorker();
    const handle = await client.workflow.start(healthCheck, {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `health-${simulate_failure}-${randomUUID()}`,
      args: [{ gpu_class: 'cpu', simulate_failure }],
    });
    lastHandle = handle;
    const result = await worker.runUntil(handle.result().finally(() => recordHistory(handle, `health-check-${simulate_failure}`)));
    return result;
  }
  let lastHandle: { fetchHistory(): Promise<{ events?: { activityTaskStartedEventAttributes?: { attempt?: number | null } | null }[] | null }> };

  async function pythonAttempts(): Promise<number[]> {
    const history = await lastHandle.fetchHistory();
    return (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : []));
  }

  it('runs a Node and a Python activity and returns a schema-valid report', async () => {
    const report = await run('none');
    expect(schemaProblems('HealthReport', report)).toEqual([]);
    expect(report.node.language).toBe('typescript');
    expect(report.python.language).toBe('python');
    expect(report.python.task_queue).toBe('llmloop-gpu-cpu');
    const store = artifactStoreFromEnv();
    expect(await store.getJson(report.python.artifact)).toEqual({ written_by: 'python', read: report.node.artifact.sha256 });
  });

  it('surfaces a non-retryable Python InvalidRequest with its type and does not retry it', async () => {
    const failure = await run('invalid_request').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (failure as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    const cause = activityFailure.cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('InvalidRequest');
    expect(cause.nonRetryable).toBe(true);
    // Node probe started once, Python probe once: no retry of a non-retryable failure.
    expect(await pythonAttempts()).toEqual([1, 1]);
  });

  it('retries a transient Python failure and succeeds on the second attempt', async () => {
    const report = await run('transient_once');
    expect(report.python.attempt).toBe(2);
    expect(await pythonAttempts()).toEqual([1, 2]);
  });
});
