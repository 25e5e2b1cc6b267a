/**
 * A token bucket in bytes per second. Relayed traffic is throttled, never
 * cut: a circuit asks `take(n)` after reading `n` bytes and before reading
 * more, and waits as long as the bucket is in debt.
 *
 * @module
 */
import { sleep } from "../util/async.ts";

/**
 * A token bucket of `rate` bytes/s holding at most one second's worth.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token-bucket.ts";
 * const bucket = new TokenBucket(1 << 20); // 1 MiB/s
 * await bucket.take(64 * 1024); // returns at once while tokens remain, later when in debt
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last = performance.now();

  /** A bucket of `rate` bytes/s (0 or `Infinity`: unlimited), starting full. */
  constructor(readonly rate: number) {
    this.#tokens = rate;
  }

  /** Take `n` bytes; resolves once the bucket has paid for them (at once when it is not in debt). */
  take(n: number, signal?: AbortSignal): Promise<void> {
    if (!(this.rate > 0) || this.rate === Infinity) return Promise.resolve();
    const now = performance.now();
    this.#tokens = Math.min(this.rate, this.#tokens + (now - this.#last) * this.rate / 1000);
    this.#last = now;
    this.#tokens -= n;
    if (this.#tokens >= 0) return Promise.resolve();
    return sleep(Math.ceil(-this.#tokens * 1000 / this.rate), signal);
  }
}
