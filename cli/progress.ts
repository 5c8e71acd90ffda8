/** Renders lifecycle progress for a terminal: one line per stage, redrawn in place on a TTY. */
import type { LifecycleProgress } from '../schemas/generated/types';

const SYMBOL: Record<string, string> = { pending: '·', running: '▶', done: '✔', reused: '↺', failed: '✖', cancelled: '■' };

export function renderProgress(progress: LifecycleProgress, childDetail: Record<string, string> = {}): string {
  const lines = progress.stages.map((s) => {
    const counts = s.total !== undefined ? ` ${s.done ?? 0}/${s.total}` : '';
    const detail = childDetail[s.stage] ? `  ${childDetail[s.stage]}` : '';
    return `  ${SYMBOL[s.status] ?? '?'} ${s.stage.padEnd(8)} ${s.status}${counts}${detail}`;
  });
  const eta = progress.eta_s !== undefined ? `, ETA ~${formatSeconds(progress.eta_s)}` : '';
  const waiting = progress.awaiting_approval ? ' — waiting for approvePublish' : '';
  return [`stage: ${progress.stage}${eta}${waiting}`, ...lines].join('\n');
}

export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/** A one-line summary of whatever a child workflow's own progress query returns. */
export function summariseChildProgress(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return '';
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, v] of Object.entries(record)) {
    if (typeof v === 'number' && /done|total|completed|step|eta/i.test(key)) parts.push(`${key}=${Number.isInteger(v) ? v : v.toFixed(1)}`);
    if (typeof v === 'string' && /phase|stage|status/i.test(key)) parts.push(`${key}=${v}`);
  }
  return parts.slice(0, 6).join(' ');
}

export class ProgressPrinter {
  private lastLines = 0;
  private last = '';
  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  print(text: string): void {
    if (text === this.last) return;
    this.last = text;
    if (this.out.isTTY && this.lastLines > 0) this.out.write(`\x1b[${this.lastLines}A\x1b[0J`);
    this.out.write(`${text}\n`);
    this.lastLines = text.split('\n').length;
  }
}

/**
 * Calls `show` every `intervalMs` until `result` settles, and once more after it (so the last
 * state is on screen); returns the result. `show` must not throw: a poll that fails (no worker
 * answers during a restart) should leave the previous lines in place.
 */
export async function pollUntilSettled<T>(result: Promise<T>, show: () => Promise<void>, intervalMs: number): Promise<T> {
  let settled = false;
  const watched = result.finally(() => {
    settled = true;
  });
  while (!settled) {
    await show();
    await Promise.race([watched.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
  }
  await show();
  return watched;
}
