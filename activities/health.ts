import { Context } from '@temporalio/activity';
import os from 'node:os';
import { artifactStoreFromEnv } from '../core/artifacts';
import { validate } from '../core/schemas';
import type { WorkerProbe } from '../schemas/generated/types';

/** Writes a small artifact and describes this Node worker; the Python probe reads the artifact back. */
export async function probeNodeWorker(): Promise<WorkerProbe> {
  const info = Context.current().info;
  const artifact = await artifactStoreFromEnv().putJson({ written_by: 'node', workflow_id: info.workflowExecution?.workflowId ?? null }, 'application/json');
  return validate('WorkerProbe', {
    language: 'typescript',
    runtime_version: `node ${process.versions.node}`,
    task_queue: info.taskQueue,
    host: os.hostname(),
    attempt: info.attempt,
    accelerator: 'cpu',
    artifact,
  });
}
