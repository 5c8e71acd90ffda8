/**
 * Training progress for a terminal, read where it lives: the heartbeat details (TrainProgress: step,
 * loss, tokens/s, ETA) of each pending training activity of a trainModel run, and of every trainModel
 * child of a trainFleet run. A workflow never sees its activities' heartbeats, so no query could
 * report the step; the server's description of the run does.
 */
import type { Client } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { schemaProblems } from '../core/schemas';
import type { TrainProgress } from '../schemas/generated/types';
import { formatSeconds } from './progress';

/** One line: `sft training step 12/80  loss 1.234  52 tok/s  ETA ~4m` (with the attempt once retried). */
export function formatTrainProgress(label: string, progress: TrainProgress, attempt = 1): string {
  const parts = [`${label} ${progress.phase} step ${progress.step}/${progress.total_steps}`];
  if (typeof progress.loss === 'number') parts.push(`loss ${progress.loss.toFixed(3)}`);
  if (typeof progress.tokens_per_second === 'number') parts.push(`${Math.round(progress.tokens_per_second)} tok/s`);
  if (typeof progress.eta_seconds === 'number') parts.push(`ETA ~${formatSeconds(progress.eta_seconds)}`);
  if (attempt > 1) parts.push(`attempt ${attempt}`);
  return parts.join('  ');
}

/**
 * A line per running training activity of `workflowId` and of its running children (one level: a
 * fleet's trainModel runs), labelled with the activity type and, for children, the run's id suffix
 * (`<fleet>/<model>/<recipe>` → `<model>/<recipe>`).
 */
export async function describeTraining(client: Client, workflowId: string, label = '', childDepth = 1): Promise<string[]> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const lines: string[] = [];
  for (const activity of raw.pendingActivities ?? []) {
    const name = `${label}${activity.activityType?.name ?? 'activity'}`;
    const [details] = await decodeArrayFromPayloads(client.workflow.options.loadedDataConverter, activity.heartbeatDetails?.payloads);
    lines.push(
      details !== undefined && schemaProblems('TrainProgress', details).length === 0
        ? formatTrainProgress(name, details as TrainProgress, activity.attempt ?? 1)
        : `${name} ${activity.attempt && activity.attempt > 1 ? `attempt ${activity.attempt}` : 'starting'}`,
    );
  }
  if (childDepth > 0) {
    // Sorted: the server lists pending children in no fixed order, and a redrawn display should not flicker.
    for (const child of [...(raw.pendingChildren ?? [])].sort((a, b) => (a.workflowId ?? '').localeCompare(b.workflowId ?? ''))) {
      if (!child.workflowId) continue;
      const suffix = child.workflowId.startsWith(`${workflowId}/`) ? child.workflowId.slice(workflowId.length + 1) : child.workflowId;
      lines.push(...(await describeTraining(client, child.workflowId, `${suffix} `, childDepth - 1)));
    }
  }
  return lines;
}
