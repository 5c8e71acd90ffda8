import fs from 'node:fs/promises';
import path from 'node:path';
import { artifactStoreFromEnv, type ArtifactStore } from '../core/artifacts';
import { lastUserText, type ChatMessageLike } from '../core/chat-messages';
import { codecKeysFromEnv } from '../core/codec';
import { loadConfig } from '../core/config';
import { readLogFrom, selectFeedbackRequests } from '../core/feedback-selection';
import { defaultRequestLogPath } from '../core/request-log';
import { validate } from '../core/schemas';
import { TableStore } from '../core/routing/store';
import type { CollectFeedbackInput, CollectFeedbackResult, FeedbackCursor, FeedbackTask, TaskType } from '../schemas/generated/types';
import { PromptStore } from '../router/prompt-store';
import { typedActivity } from './failures';
import { writeFileAtomically } from '../core/atomic-file';

/** Not exported: activities/index.ts re-exports this module, and the worker registers every export as an activity. */
function defaultRequestLog(): string {
  return defaultRequestLogPath(loadConfig().dataDir);
}

function cursorFile(requestLog: string): string {
  return path.join(loadConfig().dataDir, 'feedback', `cursor-${Buffer.from(path.resolve(requestLog)).toString('base64url')}.json`);
}

/** No cursor file yet: the log is read from the start. An unreadable or corrupt one fails the activity, not silently re-reads the whole log. */
async function committedCursor(requestLog: string): Promise<FeedbackCursor> {
  let text: string;
  try {
    text = await fs.readFile(cursorFile(requestLog), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { request_log: requestLog, offset: 0 };
    throw err;
  }
  return validate('FeedbackCursor', JSON.parse(text));
}

/**
 * Reads the request log from the committed cursor, selects low-scored and new-cluster requests and
 * stores them, with their prompts (kept by the gateway, encrypted, under the prompt's hash), as a
 * JSONL tasks artifact. The cursor only moves when commitFeedbackCursor is called.
 */
export async function collectFeedbackTasks(input: CollectFeedbackInput): Promise<CollectFeedbackResult> {
  return typedActivity(async () => {
    const requestLog = input.request_log ?? defaultRequestLog();
    const { lines, next } = await readLogFrom(await committedCursor(requestLog));
    const selection = selectFeedbackRequests(lines, { min_score: input.min_score ?? 0.5, min_similarity: input.min_similarity ?? 0.35, max_tasks: input.max_tasks ?? 500 });
    const store = artifactStoreFromEnv();
    const taskTypeOf = clusterTaskTypes(store);
    const tasks: FeedbackTask[] = [];
    let promptsMissing = 0;
    // The gateway keeps prompts encrypted under the codec keys (router/prompt-store.ts); gateways
    // before that kept them in clear in the artifact store, which is still read.
    const keys = codecKeysFromEnv();
    const sealed = keys ? PromptStore.inDataDir(loadConfig().dataDir, keys, 0) : null;
    const promptOf = async (sha256: string): Promise<ChatMessageLike[] | null> =>
      ((await sealed?.get(sha256)) as ChatMessageLike[] | null | undefined) ?? ((await store.has({ sha256 })) ? await store.getJson<ChatMessageLike[]>({ sha256 }) : null);
    for (const request of selection.selected) {
      const messages = await promptOf(request.prompt_sha256);
      if (!messages) {
        promptsMissing += 1;
        continue;
      }
      const taskType = request.reason === 'low_score' ? await taskTypeOf(request.table_version, request.cluster) : undefined;
      tasks.push({
        id: `fb-${request.prompt_sha256.slice(0, 16)}`,
        prompt: lastUserText(messages),
        messages: messages as Record<string, unknown>[],
        reason: request.reason,
        ...(request.score !== undefined ? { score: request.score } : {}),
        cluster: request.cluster,
        ...(taskType ? { task_type: taskType } : {}),
        ...(request.similarity !== undefined ? { similarity: request.similarity } : {}),
        model: request.model,
        request_id: request.request_id,
        table_version: request.table_version,
      });
    }
    const tasksRef = tasks.length ? await store.put(tasks.map((t) => JSON.stringify(validate('FeedbackTask', t))).join('\n') + '\n', 'application/x-ndjson') : undefined;
    return validate('CollectFeedbackResult', {
      ...(tasksRef ? { tasks_ref: tasksRef } : {}),
      requests_read: selection.requestsRead,
      low_score: selection.lowScore,
      new_cluster: selection.newCluster,
      tasks: tasks.length,
      prompts_missing: promptsMissing,
      cursor: next,
    });
  });
}

/**
 * The task type of the cluster a request was routed to, from the table version that routed it (each
 * version read once). New-cluster traffic is routed to its nearest cluster all the same, but is far
 * from it: its type is not taken from there. A table no longer on disk gives no type.
 */
function clusterTaskTypes(store: ArtifactStore): (tableVersion: string | null, cluster: number | null) => Promise<TaskType | undefined> {
  const tables = TableStore.inDataDir(loadConfig().dataDir, store);
  const byVersion = new Map<string, Promise<Map<number, TaskType>>>();
  const load = async (version: string) => {
    const record = await tables.record(version);
    const table = record ? await tables.loadTable(record) : undefined;
    return new Map((table?.clusters ?? []).flatMap((c) => (c.task_type ? [[c.id, c.task_type] as [number, TaskType]] : [])));
  };
  return async (tableVersion, cluster) => {
    if (tableVersion === null || cluster === null) return undefined;
    if (!byVersion.has(tableVersion)) byVersion.set(tableVersion, load(tableVersion));
    return (await byVersion.get(tableVersion)!).get(cluster);
  };
}

/** Marks the log consumed up to `cursor` (after the retraining that used it finished). */
export async function commitFeedbackCursor(cursor: FeedbackCursor): Promise<void> {
  return typedActivity(() => writeFileAtomically(cursorFile(cursor.request_log), JSON.stringify(validate('FeedbackCursor', cursor))));
}
