/**
 * The dissemination queue: membership updates waiting to be piggybacked.
 * One pending update per member (a newer one replaces it); each is sent
 * `retransmitMult × ceil(log10(n + 1))` times, least-sent first.
 *
 * @module
 */
import { type Update, updateSize } from "../messages.ts";

interface Queued {
  update: Update;
  size: number;
  transmits: number;
}

function subject(u: Update): string {
  return u.kind === "alive" ? u.token.id.hex : u.id.hex;
}

/**
 * Queued updates.
 *
 * @example
 * ```ts
 * import { Broadcasts } from "./broadcasts.ts";
 * const q = new Broadcasts(4);
 * // q.add(update); const piggyback = q.take(1000, 10);
 * q.size; // 0
 * ```
 */
export class Broadcasts {
  readonly retransmitMult: number;
  #queue = new Map<string, Queued>();

  constructor(retransmitMult: number) {
    this.retransmitMult = retransmitMult;
  }

  /** Updates waiting. */
  get size(): number {
    return this.#queue.size;
  }

  /** Queue `update`, replacing any pending update about the same member. */
  add(update: Update): void {
    this.#queue.set(subject(update), { update, size: updateSize(update) + 1, transmits: 0 });
  }

  /** Drop pending updates about `hex`. */
  forget(hex: string): void {
    this.#queue.delete(hex);
  }

  /**
   * Take updates fitting `budget` bytes for one message in a cluster of
   * `clusterSize` members, least-sent first; each taken update counts one
   * transmission and leaves the queue after its last.
   */
  take(budget: number, clusterSize: number, maxCount = 32): Update[] {
    const limit = this.retransmitMult * Math.max(1, Math.ceil(Math.log10(clusterSize + 1)));
    const items = [...this.#queue.entries()].sort((a, b) => a[1].transmits - b[1].transmits);
    const out: Update[] = [];
    let used = 0;
    for (const [key, q] of items) {
      if (out.length >= maxCount) break;
      if (used + q.size > budget) continue;
      used += q.size;
      out.push(q.update);
      if (++q.transmits >= limit) this.#queue.delete(key);
    }
    return out;
  }
}
