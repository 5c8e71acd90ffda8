/**
 * API keys: stored as sha256 digests and compared in constant time, each with an identity (its
 * name) and optional limits, like LiteLLM's virtual keys: a token bucket of requests per minute and a
 * spend budget per period, both counted in this process.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const DIGEST_PREFIX = 'sha256:';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ApiKey {
  /** The key's identity in metrics and the request log; never the key itself. */
  name: string;
  digest: Buffer;
  rpmLimit?: number;
  maxBudget?: number;
  budgetPeriodMs?: number;
}

/** `sha256:<hex>` of a key, the form the gateway config stores. */
export function hashApiKey(key: string): string {
  return `${DIGEST_PREFIX}${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export function isKeyDigest(entry: string): boolean {
  return DIGEST.test(entry);
}

/** The digest bytes of a configured entry: a `sha256:<hex>` digest as is, a (deprecated) plaintext key hashed. */
export function digestOf(entry: string): Buffer {
  return Buffer.from((isKeyDigest(entry) ? entry : hashApiKey(entry)).slice(DIGEST_PREFIX.length), 'hex');
}

export class KeyRing {
  constructor(private readonly keys: readonly ApiKey[]) {}

  /** The key the bearer token is, or null. Every stored digest is compared, so the time taken says nothing about which matched. */
  identify(token: string): ApiKey | null {
    const presented = digestOf(hashApiKey(token));
    let found: ApiKey | null = null;
    for (const key of this.keys) {
      if (timingSafeEqual(key.digest, presented)) found = key;
    }
    return found;
  }
}

export type LimitVerdict = { allowed: true } | { allowed: false; reason: 'rate_limit' | 'budget'; retryAfterS: number };

/** Per-key request buckets and spend; `now` is injectable so tests need not wait. */
export class KeyLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly spend = new Map<string, { total: number; periodStart: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Admits a request of `key` (taking a token from its bucket), or says when to come back. */
  admit(key: ApiKey): LimitVerdict {
    const now = this.now();
    if (key.maxBudget !== undefined) {
      const spent = this.currentSpend(key, now);
      if (spent.total >= key.maxBudget) {
        // Without a period the budget never refills: the client should not retry soon.
        const retryAfterMs = key.budgetPeriodMs === undefined ? 24 * 3600_000 : spent.periodStart + key.budgetPeriodMs - now;
        return { allowed: false, reason: 'budget', retryAfterS: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
      }
    }
    if (key.rpmLimit !== undefined) {
      const perMs = key.rpmLimit / 60_000;
      const previous = this.buckets.get(key.name) ?? { tokens: key.rpmLimit, at: now };
      const tokens = Math.min(key.rpmLimit, previous.tokens + (now - previous.at) * perMs);
      if (tokens < 1) {
        this.buckets.set(key.name, { tokens, at: now });
        return { allowed: false, reason: 'rate_limit', retryAfterS: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
      }
      this.buckets.set(key.name, { tokens: tokens - 1, at: now });
    }
    return { allowed: true };
  }

  /** Adds an answered request's estimated cost to the key's spend in the current period. */
  charge(key: ApiKey, cost: number): void {
    if (key.maxBudget === undefined || cost <= 0) return;
    this.currentSpend(key, this.now()).total += cost;
  }

  private currentSpend(key: ApiKey, now: number): { total: number; periodStart: number } {
    let spent = this.spend.get(key.name);
    if (!spent || (key.budgetPeriodMs !== undefined && now >= spent.periodStart + key.budgetPeriodMs)) {
      spent = { total: 0, periodStart: now };
      this.spend.set(key.name, spent);
    }
    return spent;
  }
}
