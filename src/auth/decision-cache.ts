/**
 * Cached decisions: per subject (a peer's hex id), per operation key
 * (`kind|realm|name`), the verdict and until when it holds (ms). An epoch
 * invalidates everything at once (a revocation); a subject's decisions are
 * dropped when its chains change. Bounded: past `maxSubjects` subjects or
 * `maxPerSubject` operations of one subject, the oldest are forgotten.
 *
 * A hit is two `Map` look-ups and two comparisons, so a cached decision is
 * synchronous and takes well under a microsecond.
 *
 * @module
 */

interface Entry {
  ok: boolean;
  until: number;
  epoch: number;
}

/**
 * The decision cache.
 *
 * @example
 * ```ts
 * import { DecisionCache } from "./decision-cache.ts";
 * const cache = new DecisionCache();
 * cache.set("ab12", "publish|plant|io.acme.plant3.temp", true, Date.now() + 60_000);
 * cache.get("ab12", "publish|plant|io.acme.plant3.temp", Date.now()); // true
 * cache.invalidate(); // a revocation: nothing cached holds any more
 * cache.get("ab12", "publish|plant|io.acme.plant3.temp", Date.now()); // undefined
 * ```
 */
export class DecisionCache {
  readonly #subjects = new Map<string, Map<string, Entry>>();
  readonly #maxSubjects: number;
  readonly #maxPerSubject: number;
  #epoch = 0;

  /** A cache of at most `maxSubjects` subjects (default 4096), `maxPerSubject` operations each (default 1024). */
  constructor(options: { maxSubjects?: number; maxPerSubject?: number } = {}) {
    this.#maxSubjects = options.maxSubjects ?? 4096;
    this.#maxPerSubject = options.maxPerSubject ?? 1024;
  }

  /** The cached verdict of `subject` for `op` at `now` (ms), or `undefined`. */
  get(subject: string, op: string, now: number): boolean | undefined {
    const entry = this.#subjects.get(subject)?.get(op);
    if (entry === undefined || entry.epoch !== this.#epoch || now > entry.until) return undefined;
    return entry.ok;
  }

  /** Remember `ok` for `subject` and `op` until `until` (ms). */
  set(subject: string, op: string, ok: boolean, until: number): void {
    let ops = this.#subjects.get(subject);
    if (!ops) {
      if (this.#subjects.size >= this.#maxSubjects) this.#subjects.delete(this.#subjects.keys().next().value!);
      this.#subjects.set(subject, ops = new Map());
    }
    if (ops.size >= this.#maxPerSubject) ops.delete(ops.keys().next().value!);
    ops.set(op, { ok, until, epoch: this.#epoch });
  }

  /** Forget `subject`'s decisions (its chains changed). */
  forget(subject: string): void {
    this.#subjects.delete(subject);
  }

  /** Invalidate every cached decision (a revocation, a chain added or removed). */
  invalidate(): void {
    this.#epoch++;
    if (this.#subjects.size > this.#maxSubjects / 2) this.#subjects.clear();
  }

  /** The current epoch (bumped by `invalidate`). */
  get epoch(): number {
    return this.#epoch;
  }

  /** Subjects with cached decisions. */
  get size(): number {
    return this.#subjects.size;
  }
}
