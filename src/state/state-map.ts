/**
 * The handle of one replicated map (`node.state.open(name)`): reads and
 * writes on the local replica, change subscriptions. Writes spread to the
 * other replicas through the state service; see `replica.ts` for the merge
 * rules.
 *
 * @module
 */
import { NotAuthorizedError } from "../node/authorize.ts";
import type { Entry, Replica, VersionVector } from "./replica.ts";

/** One change of a key, local or merged from another replica. */
export interface StateChange {
  /** The key. */
  key: string;
  /** Its new value (`undefined` when deleted). */
  value: unknown;
  /** Whether the key was deleted. */
  deleted: boolean;
  /** Whether the write was made here. */
  local: boolean;
  /** The writer's node id (hex). */
  writer: string;
}

/** What a map reports its writes to (the state service: gossip and persistence). */
export interface MapSink {
  /** Local writes or merged ones (`from`: the peer they came from, hex; `""` for local). */
  changed(map: StateMap, entries: Entry[], from: string): void;
}

/**
 * A replicated map. Values are anything CBOR can carry (up to 16 KiB);
 * keys are strings of up to 256 bytes.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * const node = await Node.start({ port: 0 });
 * const flags = await node.state.open("flags");
 * flags.set("dark-mode", true);
 * flags.get("dark-mode"); // true
 * const off = flags.subscribe((change) => console.log(change.key, change.value));
 * off();
 * await node.stop();
 * ```
 */
export class StateMap {
  /** The realm it lives in. */
  readonly realm: string;
  /** Its name. */
  readonly name: string;
  /** Whether this node may write it (in a closed realm: holds `/macula/state/write`). */
  readonly writable: boolean;
  readonly #replica: Replica;
  readonly #sink: MapSink;
  readonly #listeners = new Set<(change: StateChange) => void>();

  /** Built by the state service. */
  constructor(realm: string, name: string, replica: Replica, sink: MapSink, writable: boolean) {
    this.realm = realm;
    this.name = name;
    this.#replica = replica;
    this.#sink = sink;
    this.writable = writable;
  }

  /** The value at `key`, or `undefined`. */
  get(key: string): unknown {
    return this.#replica.get(key);
  }

  /** Whether `key` holds a value. */
  has(key: string): boolean {
    return this.#replica.has(key);
  }

  /** Live keys and values. */
  entries(): [string, unknown][] {
    return [...this.#replica.entries()];
  }

  /** The live keys. */
  keys(): string[] {
    return this.entries().map(([k]) => k);
  }

  /** The number of live keys. */
  get size(): number {
    return this.#replica.size;
  }

  /**
   * Write `value` at `key`. Throws `StateError` for a bad key or value and
   * `NotAuthorizedError` when this node may not write the map.
   */
  set(key: string, value: unknown): void {
    this.#writable();
    this.#local(this.#replica.set(key, value));
  }

  /** Delete `key`; `false` if it held nothing. Throws like `set`. */
  delete(key: string): boolean {
    this.#writable();
    const e = this.#replica.delete(key);
    if (e) this.#local(e);
    return e !== undefined;
  }

  /** Listen to changes (local and merged); returns the unsubscribe function. */
  subscribe(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The underlying replica (for the state service). */
  get replica(): Replica {
    return this.#replica;
  }

  /** Merge writes from `from` (hex id); returns those that won. For the state service. */
  merge(entries: Entry[], vector: VersionVector | undefined, from: string): Entry[] {
    const won = this.#replica.apply(entries, vector);
    if (won.length > 0 || vector) this.#sink.changed(this, won, from);
    for (const e of won) this.#emit(e, false);
    return won;
  }

  #writable(): void {
    if (!this.writable) {
      throw new NotAuthorizedError(`this node may not write state ${this.name} in realm ${this.realm}`);
    }
  }

  #local(e: Entry): void {
    this.#sink.changed(this, [e], "");
    this.#emit(e, true);
  }

  #emit(e: Entry, local: boolean): void {
    const change = { key: e.key, value: e.value, deleted: e.deleted, local, writer: e.stamp.o };
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
