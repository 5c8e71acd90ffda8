/**
 * The JSONL request log the feedback loop reads: one `request` line per chat completion and one
 * `feedback` line per user score, joined by request_id. Prompts are logged by hash only (router/prompt-store.ts
 * keeps the messages under that hash when store_prompts is on).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RequestLogEntry {
  type: 'request';
  ts: string;
  request_id: string;
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

export class RequestLog {
  private readonly stream: fs.WriteStream;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.stream = fs.createWriteStream(file, { flags: 'a' });
  }

  append(entry: RequestLogEntry | FeedbackLogEntry): void {
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
