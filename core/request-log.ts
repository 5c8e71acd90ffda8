/**
 * The gateway's JSONL request log, as written (router/request-log.ts) and read by the feedback loop
 * (core/feedback-selection.ts): one `request` line per chat completion and one `feedback` line per user score,
 * joined by request_id. Prompts are logged by hash only.
 */
import path from 'node:path';

/** Where the gateway writes its log and the feedback loop reads it when neither is told otherwise. */
export function defaultRequestLogPath(dataDir: string): string {
  return path.join(dataDir, 'routing', 'requests.jsonl');
}

export interface RequestLogEntry {
  type: 'request';
  ts: string;
  request_id: string;
  /** Name of the API key that made the request (never the key). */
  api_key?: string;
  prompt_sha256: string;
  requested_model: string;
  /** The model that answered, or null when none did. */
  model: string | null;
  cluster: number | null;
  /** Cosine similarity of the prompt to its cluster's centroid: low values are traffic no cluster covers. */
  cluster_similarity: number | null;
  table_version: string | null;
  status: number;
  latency_ms: number;
  cost: number;
  stream: boolean;
  /** Every upstream try in order, e.g. [{model, outcome: 'timeout'}, {model, outcome: 'ok'}]. */
  attempts: { model: string; outcome: string }[];
  error?: string;
}

export interface FeedbackLogEntry {
  type: 'feedback';
  ts: string;
  request_id: string;
  score: number;
  comment?: string;
}
