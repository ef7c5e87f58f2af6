/**
 * Token issue rate limit per user (issue 17): a token bucket per key, refilled continuously. Password checks cost
 * a scrypt hash each, so guessing and flooding are both bounded per user, before the password is verified.
 * Keystone itself leaves this to a proxy; an all-in-one has none, so the controller does it. In memory on purpose:
 * a limit per controller process is what a rate limit needs (several controllers each allow their share).
 */
export interface RateLimit {
  /** requests allowed at once */
  burst: number;
  /** sustained requests per minute; 0 = no limit */
  perMinute: number;
}

interface Bucket { tokens: number; at: number }

/** buckets kept before idle (full) ones are dropped */
const MAX_KEYS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limit: RateLimit, private readonly now: () => number = Date.now) {}

  /** takes one token for `key`: 0 when allowed, else the seconds until the next token */
  take(key: string): number {
    if (this.limit.perMinute <= 0) return 0;
    const t = this.now();
    const perMs = this.limit.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + (t - b.at) * perMs);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_KEYS) this.prune(t, perMs);
    return 0;
  }

  private prune(t: number, perMs: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (t - b.at) * perMs >= this.limit.burst) this.buckets.delete(k);
  }
}
