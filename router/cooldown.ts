/**
 * Upstream cooldown: an upstream that fails `failuresPerMinute` times within a minute is skipped
 * for `durationMs` (tried only after every healthy choice), like LiteLLM's deployment cooldown.
 */
const WINDOW_MS = 60_000;

export class CooldownTracker {
  private readonly failures = new Map<string, number[]>();
  private readonly coolingUntil = new Map<string, number>();

  constructor(
    private readonly options: { failuresPerMinute: number; durationMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  isCooling(model: string): boolean {
    return (this.coolingUntil.get(model) ?? 0) > this.now();
  }

  /** Returns true when this failure started a cooldown. */
  recordFailure(model: string): boolean {
    const now = this.now();
    const recent = (this.failures.get(model) ?? []).filter((t) => t > now - WINDOW_MS);
    recent.push(now);
    this.failures.set(model, recent);
    if (recent.length < this.options.failuresPerMinute || this.isCooling(model)) return false;
    this.coolingUntil.set(model, now + this.options.durationMs);
    this.failures.delete(model);
    return true;
  }

  /** Keeps the model last until `ms` from now, e.g. as its Retry-After asked (never shortens a cooldown). */
  coolFor(model: string, ms: number): void {
    this.coolingUntil.set(model, Math.max(this.coolingUntil.get(model) ?? 0, this.now() + ms));
  }

  recordSuccess(model: string): void {
    this.failures.delete(model);
    this.coolingUntil.delete(model);
  }

  /** Healthy models first, cooling ones last, each group in the given order. */
  order(models: readonly string[]): string[] {
    return [...models.filter((m) => !this.isCooling(m)), ...models.filter((m) => this.isCooling(m))];
  }
}
