/**
 * Calling OpenAI-compatible upstreams: a timeout until the response headers arrive, retries with
 * exponential backoff, fallback through the ranked choices, and cooldown of failing upstreams.
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

/** The client went away before an upstream answered: nothing to send, and no upstream is to blame. */
export class ClientClosedRequest extends Error {
  constructor(readonly attempts: Attempt[]) {
    super('the client closed the request before an upstream answered');
  }
}

export interface UpstreamPolicy {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

class FailedAttempt extends Error {
  constructor(readonly outcome: string) {
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
   * since retrying a hung server only doubles the wait.
   */
  async call(models: readonly string[], body: Record<string, unknown>, clientSignal: AbortSignal): Promise<UpstreamAnswer> {
    const attempts: Attempt[] = [];
    for (const model of this.cooldown.order(models.filter((m) => this.has(m)))) {
      for (let attempt = 1; attempt <= this.policy.attempts; attempt++) {
        try {
          const response = await this.send(model, body, clientSignal);
          const outcome = response.ok ? 'ok' : 'client_error';
          attempts.push({ model, outcome });
          if (response.ok) this.cooldown.recordSuccess(model);
          return { model, response, attempts };
        } catch (err) {
          if (clientSignal.aborted) throw new ClientClosedRequest(attempts);
          if (!(err instanceof FailedAttempt)) throw err;
          attempts.push({ model, outcome: err.outcome });
          const cooledDown = this.cooldown.recordFailure(model);
          this.onFailure(model, err.outcome, cooledDown);
          if (err.outcome === 'timeout' || this.cooldown.isCooling(model) || attempt === this.policy.attempts) break;
          await sleep(Math.min(this.policy.maxBackoffMs, this.policy.backoffMs * 2 ** (attempt - 1)));
        }
      }
    }
    throw new AllUpstreamsFailed(attempts);
  }

  /** Resolves once the upstream's headers arrive; the body may still be streaming. */
  private async send(model: string, body: Record<string, unknown>, clientSignal: AbortSignal): Promise<Response> {
    const upstream = this.upstreams[model]!;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.policy.timeoutMs);
    try {
      const response = await fetch(`${upstream.base_url.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(upstream.api_key ? { authorization: `Bearer ${upstream.api_key}` } : {}) },
        body: JSON.stringify({ ...body, model: upstream.upstream_model ?? model }),
        signal: AbortSignal.any([timeout.signal, clientSignal]),
      });
      if (response.ok || CLIENT_ERROR_STATUSES.has(response.status)) return response;
      await response.body?.cancel();
      throw new FailedAttempt(`http_${response.status}`);
    } catch (err) {
      if (err instanceof FailedAttempt || clientSignal.aborted) throw err;
      throw new FailedAttempt(timeout.signal.aborted ? 'timeout' : 'connection');
    } finally {
      clearTimeout(timer);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
