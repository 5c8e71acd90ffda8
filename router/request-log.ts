/** Appends the gateway's JSONL request log (format and default path: core/request-log.ts). */
import fs from 'node:fs';
import path from 'node:path';
import type { FeedbackLogEntry, RequestLogEntry } from '../core/request-log';

export type { FeedbackLogEntry, RequestLogEntry };

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
