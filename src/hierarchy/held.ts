/**
 * What a bridge holds as a proxy: the signed provider records members of
 * its lower levels handed it (`up`), by key kind and name, until they
 * expire.
 *
 * @module
 */
import type { ProviderRecord } from "../dht/records.ts";
import { MaculaError } from "../util/errors.ts";

/** Limits of what a bridge holds: (kind, name) entries, and records per entry. */
export const HELD_LIMITS = { entries: 10_000, perEntry: 64 } as const;

/**
 * Records held by a proxy bridge.
 *
 * @example
 * ```ts
 * import { HeldRecords } from "./held.ts";
 * declare const record: import("../dht/records.ts").ProviderRecord;
 * const held = new HeldRecords();
 * held.add("rpc", "math.add", 1, record);
 * held.get("rpc", "math.add").length; // 1
 * ```
 */
export class HeldRecords {
  #byName = new Map<string, { level: number; recs: Map<string, ProviderRecord> }>();

  /**
   * Hold `record` for (`kind`, `name`), announced at `level`. Throws
   * `MaculaError` `E_REJECTED` past `HELD_LIMITS` (expired records are
   * swept first).
   */
  add(kind: string, name: string, level: number, record: ProviderRecord): void {
    const id = `${kind}|${name}`;
    let entry = this.#byName.get(id);
    if (!entry && this.#byName.size >= HELD_LIMITS.entries) this.sweep();
    if (!entry && this.#byName.size >= HELD_LIMITS.entries) {
      throw new MaculaError("E_REJECTED", `this bridge already holds ${HELD_LIMITS.entries} keys`);
    }
    if (entry && !entry.recs.has(record.provider.id.hex) && entry.recs.size >= HELD_LIMITS.perEntry) {
      throw new MaculaError("E_REJECTED", `this bridge already holds ${HELD_LIMITS.perEntry} providers of ${name}`);
    }
    if (!entry) this.#byName.set(id, entry = { level, recs: new Map() });
    entry.level = Math.min(entry.level, level);
    entry.recs.set(record.provider.id.hex, record);
  }

  /** The unexpired records held for (`kind`, `name`). */
  get(kind: string, name: string, now = Date.now()): ProviderRecord[] {
    const entry = this.#byName.get(`${kind}|${name}`);
    if (!entry) return [];
    return [...entry.recs.values()].filter((r) => r.expires > now);
  }

  /** Drop expired records; returns the (`kind`, `name`, `level`) entries left empty. */
  sweep(now = Date.now()): Array<{ kind: string; name: string; level: number }> {
    const emptied: Array<{ kind: string; name: string; level: number }> = [];
    for (const [id, entry] of this.#byName) {
      for (const [hex, r] of entry.recs) if (r.expires <= now) entry.recs.delete(hex);
      if (entry.recs.size > 0) continue;
      this.#byName.delete(id);
      const bar = id.indexOf("|");
      emptied.push({ kind: id.slice(0, bar), name: id.slice(bar + 1), level: entry.level });
    }
    return emptied;
  }

  /** Number of (`kind`, `name`) entries held. */
  get size(): number {
    return this.#byName.size;
  }
}
