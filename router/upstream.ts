/**
 * Calling OpenAI-compatible upstreams: a timeout until the response headers arrive, retries with
 * exponential backoff (or the upstream's Retry-After), fallback through the ranked choices, and
 * cooldown of failing upstreams; all of it under the request's signal, which ends the whole
 * request when its client leaves or its deadline passes.
 */
import type { GatewayUpstream } from '../schemas/generated/types';
import type { CooldownTracker } from './cooldown';

/** Statuses that say the request itself is bad: every upstream would answer the same, so pass them on. */
const CLIENT_ERROR_STATUSES = new Set([400, 413, 422]);

export interface Attempt {
  model: string;
  /** 'ok', 'client_error', 'timeout', 'connection' or 'http_<status>'. */
  outcome: string;
}

export interface UpstreamAnswer {
  model: string;
  response: Response;
  attempts: Attempt[];
}

export class AllUpstreamsFailed extends Error {
  constructor(readonly attempts: Attempt[]) {
    super(`every upstream failed: ${attempts.map((a) => `${a.model} ${a.outcome}`).join(', ') || 'no upstream to try'}`);
  }
}

/** Why a request was ended from outside: its client left, its total deadline passed, or its upstream went silent. */
export type StopReason = 'client_closed' | 'deadline' | 'idle';

/** The request's signal fired before an upstream answered: no upstream is to blame. */
export class RequestStopped extends Error {
  constructor(
    readonly reason: StopReason,
    readonly attempts: Attempt[],
  ) {
    super(reason === 'client_closed' ? 'the client closed the request before an upstream answered' : `the request's deadline passed before an upstream answered`);
  }
}

/** The reason a request signal was aborted with (see StopReason). */
export function stopReason(signal: AbortSignal): StopReason {
  return signal.reason === 'client_closed' || signal.reason === 'idle' ? signal.reason : 'deadline';
}

export interface UpstreamPolicy {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

class FailedAttempt extends Error {
  constructor(
    readonly outcome: string,
    /** The upstream's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(outcome);
  }
}

export class UpstreamCaller {
  constructor(
    private readonly upstreams: Readonly<Record<string, GatewayUpstream>>,
    private readonly policy: UpstreamPolicy,
    private readonly cooldown: CooldownTracker,
    private readonly onFailure: (model: string, outcome: string, cooledDown: boolean) => void,
  ) {}

  has(model: string): boolean {
    return Object.hasOwn(this.upstreams, model);
  }

  /**
   * Tries each model in order (cooling ones last) until one answers. Connection errors and 5xx/429
   * are retried on the same upstream with backoff; a timeout moves straight to the next choice,
   * since retrying a hung server only doubles the wait. A Retry-After longer than the backoff cap
   * is obeyed by not asking that upstream again before then (cooldown) and moving on.
   * `signal` (aborted with a StopReason) ends everything, including a body still streaming.
   */
  async call(models: readonly string[], body: Record<string, unknown>, signal: AbortSignal): Promise<UpstreamAnswer> {
    const attempts: Attempt[] = [];
    for (const model of this.cooldown.order(models.filter((m) => this.has(m)))) {
      for (let attempt = 1; attempt <= this.policy.attempts; attempt++) {
        try {
          const response = await this.send(model, body, signal);
          const outcome = response.ok ? 'ok' : 'client_error';
          attempts.push({ model, outcome });
          if (response.ok) this.cooldown.recordSuccess(model);
          return { model, response, attempts };
        } catch (err) {
          if (signal.aborted) throw new RequestStopped(stopReason(signal), attempts);
          if (!(err instanceof FailedAttempt)) throw err;
          attempts.push({ model, outcome: err.outcome });
          const cooledDown = this.cooldown.recordFailure(model);
          this.onFailure(model, err.outcome, cooledDown);
          const retryAfterMs = err.retryAfterMs;
          if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxBackoffMs) {
            this.cooldown.coolFor(model, retryAfterMs);
            break;
          }
          if (err.outcome === 'timeout' || this.cooldown.isCooling(model) || attempt === this.policy.attempts) break;
          const delay = retryAfterMs ?? Math.min(this.policy.maxBackoffMs, this.policy.backoffMs * 2 ** (attempt - 1));
          if (!(await sleep(delay, signal))) throw new RequestStopped(stopReason(signal), attempts);
        }
      }
    }
    throw new AllUpstreamsFailed(attempts);
  }

  /** Resolves once the upstream's headers arrive; the body may still be streaming. */
  private async send(model: string, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    const upstream = this.upstreams[model]!;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.policy.timeoutMs);
    try {
      const response = await fetch(`${upstream.base_url.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(upstream.api_key ? { authorization: `Bearer ${upstream.api_key}` } : {}) },
        body: JSON.stringify({ ...body, model: upstream.upstream_model ?? model }),
        signal: AbortSignal.any([timeout.signal, signal]),
      });
      if (response.ok || CLIENT_ERROR_STATUSES.has(response.status)) return response;
      await response.body?.cancel();
      throw new FailedAttempt(`http_${response.status}`, retryAfterMs(response.headers.get('retry-after')));
    } catch (err) {
      if (err instanceof FailedAttempt || signal.aborted) throw err;
      throw new FailedAttempt(timeout.signal.aborted ? 'timeout' : 'connection');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
