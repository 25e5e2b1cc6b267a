/**
 * Cached decisions: per subject (a peer's hex id), per operation name, per
 * kind and realm, the verdict and until when it holds (ms). An epoch
 * invalidates everything at once (a revocation); a subject's decisions are
 * dropped when its chains change. Bounded: past `maxSubjects` subjects or
 * `maxPerSubject` names of one subject, the oldest are forgotten.
 *
 * A hit is two `Map` look-ups on strings the caller already has (no key
 * is built) and a few comparisons, so a cached decision is synchronous and
 * takes well under a microsecond.
 *
 * @module
 */
import type { OperationKind } from "../node/authorize.ts";

interface Entry {
  kind: OperationKind;
  realm: string | undefined;
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
 * const op = { kind: "publish", name: "io.acme.plant3.temp", realm: "plant" } as const;
 * cache.set("ab12", op, true, Date.now() + 60_000);
 * cache.get("ab12", op, Date.now()); // true
 * cache.invalidate(); // a revocation: nothing cached holds any more
 * cache.get("ab12", op, Date.now()); // undefined
 * ```
 */
export class DecisionCache {
  readonly #subjects = new Map<string, Map<string, Entry[]>>();
  readonly #maxSubjects: number;
  readonly #maxPerSubject: number;
  #epoch = 0;

  /** A cache of at most `maxSubjects` subjects (default 4096), `maxPerSubject` names each (default 1024). */
  constructor(options: { maxSubjects?: number; maxPerSubject?: number } = {}) {
    this.#maxSubjects = options.maxSubjects ?? 4096;
    this.#maxPerSubject = options.maxPerSubject ?? 1024;
  }

  /** The cached verdict of `subject` for `op` at `now` (ms), or `undefined`. */
  get(subject: string, op: { kind: OperationKind; name: string; realm?: string }, now: number): boolean | undefined {
    const entries = this.#subjects.get(subject)?.get(op.name);
    if (entries === undefined) return undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.kind !== op.kind || e.realm !== op.realm) continue;
      if (e.epoch !== this.#epoch || now > e.until) return undefined;
      return e.ok;
    }
    return undefined;
  }

  /** Remember `ok` for `subject` and `op` until `until` (ms). */
  set(subject: string, op: { kind: OperationKind; name: string; realm?: string }, ok: boolean, until: number): void {
    let names = this.#subjects.get(subject);
    if (!names) {
      if (this.#subjects.size >= this.#maxSubjects) this.#subjects.delete(this.#subjects.keys().next().value!);
      this.#subjects.set(subject, names = new Map());
    }
    let entries = names.get(op.name);
    if (!entries) {
      if (names.size >= this.#maxPerSubject) names.delete(names.keys().next().value!);
      names.set(op.name, entries = []);
    }
    const entry: Entry = { kind: op.kind, realm: op.realm, ok, until, epoch: this.#epoch };
    const at = entries.findIndex((e) => e.kind === op.kind && e.realm === op.realm);
    if (at >= 0) entries[at] = entry;
    else if (entries.length < 16) entries.push(entry);
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
