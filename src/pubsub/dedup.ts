/**
 * Per-publisher ordering and duplicate suppression: a message is delivered
 * only if its sequence number is higher than the last one delivered from the
 * same publisher session (origin + epoch). Duplicates and late, reordered
 * copies are dropped, so each subscriber sees a publisher's messages once,
 * in publish order.
 *
 * @module
 */

/**
 * Remembers the highest sequence delivered per publisher session.
 *
 * @example
 * ```ts
 * import { SequenceGuard } from "./dedup.ts";
 * const guard = new SequenceGuard();
 * guard.accept("origin", 1, 1); // true
 * guard.accept("origin", 1, 1); // false (duplicate)
 * ```
 */
export class SequenceGuard {
  #last = new Map<string, number>();
  #max: number;

  constructor(maxPublishers = 4096) {
    this.#max = maxPublishers;
  }

  /** Should message `seq` of (`origin`, `epoch`) be delivered? Records it if so. */
  accept(origin: string, epoch: number, seq: number): boolean {
    const key = `${origin}:${epoch}`;
    const last = this.#last.get(key);
    if (last !== undefined && seq <= last) return false;
    if (last === undefined && this.#last.size >= this.#max) {
      // Forget the publisher session seen first (the map keeps insertion order).
      this.#last.delete(this.#last.keys().next().value!);
    }
    this.#last.set(key, seq);
    return true;
  }
}
