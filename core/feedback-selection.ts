/**
 * Turns the gateway's request log into tasks worth learning from: prompts users scored low, and
 * prompts far from every known cluster (traffic the fleet was never evaluated on).
 */
import fs from 'node:fs/promises';
import type { CollectFeedbackInput, FeedbackCursor } from '../schemas/generated/types';
import type { FeedbackLogEntry, RequestLogEntry } from './request-log';

/** What the feedback loop reads from a `request` line; a line without cluster_similarity is still read. */
type LoggedRequest = Pick<RequestLogEntry, 'type' | 'request_id' | 'prompt_sha256' | 'model' | 'cluster' | 'table_version' | 'status'> & Partial<Pick<RequestLogEntry, 'cluster_similarity'>>;

type LoggedFeedback = Pick<FeedbackLogEntry, 'type' | 'request_id' | 'score'>;

export interface SelectedRequest {
  request_id: string;
  prompt_sha256: string;
  reason: 'low_score' | 'new_cluster';
  score?: number;
  cluster: number | null;
  similarity?: number;
  model: string | null;
  table_version: string | null;
}

export interface Selection {
  requestsRead: number;
  lowScore: number;
  newCluster: number;
  selected: SelectedRequest[];
}

/**
 * Joins scores to requests (a request's lowest score counts) and keeps, once per distinct prompt,
 * the answered requests scored below `min_score` or less similar than `min_similarity` to their
 * nearest centroid. Malformed lines are skipped: a log is append-only and may end mid-write.
 */
export function selectFeedbackRequests(lines: string[], options: Required<Omit<CollectFeedbackInput, 'request_log'>>): Selection {
  const requests = new Map<string, LoggedRequest>();
  const scores = new Map<string, number>();
  for (const line of lines) {
    let entry: LoggedRequest | LoggedFeedback;
    try {
      entry = JSON.parse(line) as LoggedRequest | LoggedFeedback;
    } catch {
      continue;
    }
    if (entry?.type === 'request' && typeof entry.request_id === 'string' && typeof entry.prompt_sha256 === 'string') requests.set(entry.request_id, entry);
    else if (entry?.type === 'feedback' && typeof entry.score === 'number') scores.set(entry.request_id, Math.min(entry.score, scores.get(entry.request_id) ?? Infinity));
  }

  let lowScore = 0;
  let newCluster = 0;
  const byPrompt = new Map<string, SelectedRequest>();
  for (const request of requests.values()) {
    if (request.status >= 400) continue;
    const score = scores.get(request.request_id);
    const similarity = typeof request.cluster_similarity === 'number' ? request.cluster_similarity : undefined;
    const reason = score !== undefined && score < options.min_score ? 'low_score' : similarity !== undefined && similarity < options.min_similarity ? 'new_cluster' : undefined;
    if (!reason) continue;
    if (reason === 'low_score') lowScore += 1;
    else newCluster += 1;
    if (byPrompt.has(request.prompt_sha256)) continue;
    byPrompt.set(request.prompt_sha256, {
      request_id: request.request_id,
      prompt_sha256: request.prompt_sha256,
      reason,
      ...(score !== undefined ? { score } : {}),
      cluster: request.cluster,
      ...(similarity !== undefined ? { similarity } : {}),
      model: request.model,
      table_version: request.table_version,
    });
  }
  return { requestsRead: requests.size, lowScore, newCluster, selected: [...byPrompt.values()].slice(0, options.max_tasks) };
}

/** Complete lines from the cursor on, and the cursor just past the last complete one. */
export async function readLogFrom(cursor: FeedbackCursor): Promise<{ lines: string[]; next: FeedbackCursor }> {
  let handle;
  try {
    handle = await fs.open(cursor.request_log, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], next: cursor };
    throw err;
  }
  try {
    const { size } = await handle.stat();
    // A log rotated or truncated since the cursor was taken starts over.
    const start = cursor.offset <= size ? cursor.offset : 0;
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lastNewline = buffer.lastIndexOf(0x0a);
    if (lastNewline < 0) return { lines: [], next: { ...cursor, offset: start } };
    const text = buffer.subarray(0, lastNewline).toString('utf8');
    return { lines: text.split('\n').filter(Boolean), next: { request_log: cursor.request_log, offset: start + lastNewline + 1 } };
  } finally {
    await handle.close();
  }
}
