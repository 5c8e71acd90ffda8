/**
 * The pre-deploy check of the workflow versioning policy (docs/lifecycle.md): replays the histories of
 * the cluster's running workflows against a workflow bundle (the code about to be deployed). A failure
 * means the new code would break those runs with a nondeterminism error: guard the change with
 * patched() instead.
 */
import type { Client } from '@temporalio/client';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';

export interface ReplayFailure {
  workflowId: string;
  runId: string;
  message: string;
}

export async function replayRunningWorkflows(client: Client, code: Pick<ReplayWorkerOptions, 'workflowBundle' | 'workflowsPath'>, query = 'ExecutionStatus="Running"'): Promise<{ replayed: number; failures: ReplayFailure[] }> {
  const histories = client.workflow.list({ query }).intoHistories();
  const failures: ReplayFailure[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(code, histories)) {
    replayed += 1;
    if (result.error) failures.push({ workflowId: result.workflowId, runId: result.runId, message: result.error.message });
  }
  return { replayed, failures };
}
