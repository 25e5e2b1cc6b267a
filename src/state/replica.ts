/**
 * One replica of a replicated map: a last-writer-wins map with tombstones
 * and a version vector, as a pure data structure (no I/O).
 *
 * Merge rules: every key holds the write with the greatest stamp (see
 * `stamp.ts`); a delete is a write of a tombstone, so a set and a delete
 * race like two sets. Each write also carries its writer's sequence number
 * (its "dot"); the version vector holds, per writer, the sequence number up
 * to which this replica has seen everything. `missing(vector)` is what a
 * peer with that vector lacks. Applying is idempotent, commutative and
 * associative, so replicas that have applied the same writes are equal.
 *
 * @module
 */
import { encodeCbor } from "../wire/cbor.ts";
import { StateError } from "./errors.ts";
import { compareStamps, HybridClock, type Stamp } from "./stamp.ts";

/** Longest key, UTF-8 bytes. */
export const MAX_KEY_BYTES = 256;
/** Largest value, CBOR-encoded bytes. */
export const MAX_VALUE_BYTES = 16 * 1024;

/** One write: a value or a tombstone, with its stamp and its writer's sequence number. */
export interface Entry {
  /** The key. */
  readonly key: string;
  /** The value (`undefined` for a tombstone). */
  readonly value: unknown;
  /** Whether this write deleted the key. */
  readonly deleted: boolean;
  /** Its order. */
  readonly stamp: Stamp;
  /** The writer's sequence number of this write (1, 2, …). */
  readonly seq: number;
}

/** Per writer (hex id), the sequence number up to which everything has been seen. */
export type VersionVector = ReadonlyMap<string, number>;

const encoder = new TextEncoder();

/** Throw `StateError` unless `key` is a valid key. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || encoder.encode(key).length > MAX_KEY_BYTES) {
    throw new StateError("E_STATE_KEY", `a key is a string of 1 to ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
}

/** Throw `StateError` unless `value` encodes to CBOR within `MAX_VALUE_BYTES`. */
export function checkValue(value: unknown): void {
  if (value === undefined) throw new StateError("E_STATE_VALUE", "a value cannot be undefined (use delete)");
  let size: number;
  try {
    size = encodeCbor(value).length;
  } catch (error) {
    throw new StateError("E_STATE_VALUE", `the value cannot be encoded: ${(error as Error).message}`);
  }
  if (size > MAX_VALUE_BYTES) {
    throw new StateError("E_STATE_VALUE", `a value of ${size} bytes exceeds ${MAX_VALUE_BYTES} bytes`);
  }
}

/**
 * A replica.
 *
 * @example
 * ```ts
 * import { Replica } from "./replica.ts";
 * const a = new Replica("aa"), b = new Replica("bb");
 * a.set("mode", "eco");
 * b.set("mode", "boost");
 * b.apply(a.missing(b.vector()), a.vector());
 * a.apply(b.missing(a.vector()), b.vector());
 * a.get("mode") === b.get("mode"); // true
 * ```
 */
export class Replica {
  /** This replica's writer id (hex). */
  readonly origin: string;
  readonly #entries = new Map<string, Entry>();
  readonly #vector = new Map<string, number>();
  readonly #clock: HybridClock;

  /** A replica writing as `origin`, reading wall time from `now`. */
  constructor(origin: string, now?: () => number) {
    this.origin = origin;
    this.#clock = new HybridClock(origin, now);
  }

  /** The value at `key`, `undefined` if none or deleted. */
  get(key: string): unknown {
    const e = this.#entries.get(key);
    return e && !e.deleted ? e.value : undefined;
  }

  /** Whether `key` holds a value. */
  has(key: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && !e.deleted;
  }

  /** Live keys and values, in insertion order of the keys. */
  *entries(): IterableIterator<[string, unknown]> {
    for (const e of this.#entries.values()) if (!e.deleted) yield [e.key, e.value];
  }

  /** Number of live keys. */
  get size(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (!e.deleted) n++;
    return n;
  }

  /** Every write held (live and tombstones). */
  all(): Entry[] {
    return [...this.#entries.values()];
  }

  /** The raw entry at `key` (a tombstone too). */
  entry(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  /** A copy of the version vector. */
  vector(): Map<string, number> {
    return new Map(this.#vector);
  }

  /** Write `value` at `key` locally; returns the write. Throws `StateError` for a bad key or value. */
  set(key: string, value: unknown): Entry {
    checkKey(key);
    checkValue(value);
    return this.#local(key, value, false);
  }

  /** Delete `key` locally; returns the tombstone, or `undefined` if the key held nothing. */
  delete(key: string): Entry | undefined {
    checkKey(key);
    if (!this.has(key)) return undefined;
    return this.#local(key, undefined, true);
  }

  /**
   * Merge writes from elsewhere; returns those that won (changed this
   * replica). With `vector` (the sender's, when `entries` is everything it
   * holds beyond this replica's vector) the version vector takes its maximum.
   */
  apply(entries: Iterable<Entry>, vector?: VersionVector): Entry[] {
    const won: Entry[] = [];
    for (const e of entries) {
      this.#clock.observe(e.stamp);
      const current = this.#entries.get(e.key);
      if (!current || compareStamps(e.stamp, current.stamp) > 0) {
        this.#entries.set(e.key, e);
        won.push(e);
      }
      const seen = this.#vector.get(e.stamp.o) ?? 0;
      if (e.seq === seen + 1) this.#vector.set(e.stamp.o, e.seq);
    }
    if (vector) {
      for (const [o, seq] of vector) if (seq > (this.#vector.get(o) ?? 0)) this.#vector.set(o, seq);
    }
    return won;
  }

  /** The writes a replica whose version vector is `vector` has not seen. */
  missing(vector: VersionVector): Entry[] {
    const out: Entry[] = [];
    for (const e of this.#entries.values()) if (e.seq > (vector.get(e.stamp.o) ?? 0)) out.push(e);
    return out;
  }

  #local(key: string, value: unknown, deleted: boolean): Entry {
    const seq = (this.#vector.get(this.origin) ?? 0) + 1;
    this.#vector.set(this.origin, seq);
    const e: Entry = { key, value, deleted, stamp: this.#clock.next(), seq };
    this.#entries.set(key, e);
    return e;
  }
}
