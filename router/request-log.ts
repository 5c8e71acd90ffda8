/**
 * Appends the gateway's JSONL request log (format and default path: core/request-log.ts).
 *
 * A failed write (disk full, file gone) must never take the gateway down with it: the error is
 * reported, the broken stream dropped, and the next line opens the file afresh. The log rotates by
 * size or age (renamed to `<file>.<UTC time>`), and `reopen()` (SIGHUP) follows an external rotation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FeedbackLogEntry, RequestLogEntry } from '../core/request-log';

export type { FeedbackLogEntry, RequestLogEntry };

export interface LogRotation {
  maxBytes?: number;
  intervalMs?: number;
}

export class RequestLog {
  private stream: fs.WriteStream | null = null;
  private bytes = 0;
  private openedAt = 0;

  constructor(
    readonly file: string,
    private readonly rotation: LogRotation,
    private readonly onError: (err: Error) => void,
    private readonly now: () => number = Date.now,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  append(entry: RequestLogEntry | FeedbackLogEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    if (this.stream && this.dueForRotation()) this.rotate();
    const stream = this.stream ?? this.open();
    this.bytes += Buffer.byteLength(line);
    stream.write(line);
  }

  /** Closes the file and opens it again by name: after logrotate moved it, lines go to the new file. */
  reopen(): void {
    this.stream?.end();
    this.stream = null;
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    return new Promise((resolve) => (stream && !stream.destroyed ? stream.end(resolve) : resolve()));
  }

  private open(): fs.WriteStream {
    const stream = fs.createWriteStream(this.file, { flags: 'a' });
    stream.on('error', (err) => {
      if (this.stream === stream) this.stream = null;
      this.onError(err);
    });
    this.stream = stream;
    this.openedAt = this.now();
    this.bytes = fileSize(this.file);
    return stream;
  }

  private dueForRotation(): boolean {
    const { maxBytes, intervalMs } = this.rotation;
    return (maxBytes !== undefined && this.bytes >= maxBytes) || (intervalMs !== undefined && this.now() - this.openedAt >= intervalMs);
  }

  private rotate(): void {
    this.stream?.end();
    this.stream = null;
    try {
      fs.renameSync(this.file, `${this.file}.${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`);
    } catch (err) {
      this.onError(err as Error);
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
