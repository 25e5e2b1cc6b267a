/**
 * A counter and a set built on replicated maps.
 *
 * - `StateCounter`: a PN-counter. Each writer owns one key (its node id) whose
 *   value is `[added, subtracted]`, both only growing; the value is the sum
 *   over writers of `added - subtracted`. A key is written only by its owner,
 *   whose clock only moves forward, so last-writer-wins keeps its latest
 *   totals and concurrent increments on different nodes all count.
 * - `StateSet`: a last-writer-wins element set of strings: `add` writes
 *   `true` at the member's key, `delete` a tombstone; an add and a delete of
 *   one member race by stamp like two writes.
 *
 * @module
 */
import type { StateChange, StateMap } from "./state-map.ts";

/**
 * A replicated counter.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * const node = await Node.start({ port: 0 });
 * const visits = await node.state.openCounter("visits");
 * visits.add(3);
 * visits.add(-1);
 * visits.value(); // 2
 * await node.stop();
 * ```
 */
export class StateCounter {
  readonly #map: StateMap;
  readonly #self: string;

  /** A counter over `map`, writing as `self` (a node id in hex). */
  constructor(map: StateMap, self: string) {
    this.#map = map;
    this.#self = self;
  }

  /** The map underneath. */
  get map(): StateMap {
    return this.#map;
  }

  /** The sum of every writer's additions minus its subtractions. */
  value(): number {
    let sum = 0;
    for (const [, v] of this.#map.entries()) {
      const [p, n] = totals(v);
      sum += p - n;
    }
    return sum;
  }

  /** Add `by` (negative subtracts; a finite number). Throws like `StateMap.set`. */
  add(by = 1): void {
    if (!Number.isFinite(by)) throw new RangeError("a counter step is a finite number");
    const [p, n] = totals(this.#map.get(this.#self));
    this.#map.set(this.#self, by >= 0 ? [p + by, n] : [p, n - by]);
  }

  /** Listen to changes of the value; returns the unsubscribe function. */
  subscribe(listener: (value: number) => void): () => void {
    return this.#map.subscribe(() => listener(this.value()));
  }
}

function totals(v: unknown): [number, number] {
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number") {
    return [v[0], v[1]];
  }
  return [0, 0];
}

/**
 * A replicated set of strings.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * const node = await Node.start({ port: 0 });
 * const online = await node.state.openSet("online");
 * online.add("sensor-7");
 * online.has("sensor-7"); // true
 * online.values(); // ["sensor-7"]
 * await node.stop();
 * ```
 */
export class StateSet {
  readonly #map: StateMap;

  /** A set over `map`. */
  constructor(map: StateMap) {
    this.#map = map;
  }

  /** The map underneath. */
  get map(): StateMap {
    return this.#map;
  }

  /** Add `member` (a key: 1 to 256 bytes). */
  add(member: string): void {
    this.#map.set(member, true);
  }

  /** Remove `member`; `false` if absent. */
  delete(member: string): boolean {
    return this.#map.delete(member);
  }

  /** Whether `member` is in. */
  has(member: string): boolean {
    return this.#map.has(member);
  }

  /** The members. */
  values(): string[] {
    return this.#map.keys();
  }

  /** The number of members. */
  get size(): number {
    return this.#map.size;
  }

  /** Listen to adds and removes; returns the unsubscribe function. */
  subscribe(listener: (change: { member: string; added: boolean; local: boolean }) => void): () => void {
    return this.#map.subscribe((c: StateChange) => listener({ member: c.key, added: !c.deleted, local: c.local }));
  }
}
