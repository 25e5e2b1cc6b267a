/**
 * Iterative Kademlia lookup: query the α closest known peers in parallel,
 * merge the closer peers they return, and stop when the k closest peers seen
 * have all answered. Peers that fail or time out are skipped, so lookups
 * route around dead and slow nodes.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { AbortedError } from "../util/async.ts";
import { sortByDistance } from "./keys.ts";

/** A peer as the lookup sees it. */
export interface LookupPeer {
  /** Its node id. */
  id: NodeId;
  /** Its DHT id. */
  key: Uint8Array;
}

/** What one query returns. */
export interface QueryResult<V> {
  /** Peers closer to the target that the queried peer knows. */
  peers: LookupPeer[];
  /** Values found at that peer (records). */
  values?: V[];
}

/** Options of `iterativeLookup`. */
export interface LookupOptions<V> {
  target: Uint8Array;
  /** Our own id (never queried). */
  self: NodeId;
  /** Starting peers (from the routing table). */
  seeds: LookupPeer[];
  /** Ask one peer; throw if it fails or times out. */
  query: (peer: LookupPeer) => Promise<QueryResult<V>>;
  /** Results wanted. Default 20. */
  k?: number;
  /** Queries in flight. Default 3. */
  alpha?: number;
  /** Stop as soon as this many values were collected (0 = never stop early). */
  enoughValues?: number;
  /** Told about every answer and failure (routing-table upkeep). */
  onAnswer?: (peer: LookupPeer) => void;
  onFailure?: (peer: LookupPeer, error: unknown) => void;
  signal?: AbortSignal;
}

/** Outcome of a lookup. */
export interface LookupResult<V> {
  /** The k closest peers that answered, closest first. */
  closest: LookupPeer[];
  /** Values collected. */
  values: V[];
  /** Hops to the closest peer found (1 = a starting peer). */
  hops: number;
  /** Queries sent. */
  queried: number;
  /** Queries that failed. */
  failed: number;
}

interface Candidate {
  peer: LookupPeer;
  state: "new" | "pending" | "ok" | "failed";
  depth: number;
}

/**
 * Run an iterative lookup.
 *
 * @example
 * ```ts
 * import { iterativeLookup } from "./lookup.ts";
 * declare const options: import("./lookup.ts").LookupOptions<never>;
 * const { closest, hops } = await iterativeLookup(options);
 * ```
 */
export function iterativeLookup<V>(options: LookupOptions<V>): Promise<LookupResult<V>> {
  const k = options.k ?? 20;
  const alpha = options.alpha ?? 3;
  const target = options.target;
  const seen = new Map<string, Candidate>();
  let list: Candidate[] = [];
  const values: V[] = [];
  let queried = 0;
  let failed = 0;
  let inFlight = 0;

  const addPeer = (peer: LookupPeer, depth: number) => {
    if (peer.id.equals(options.self) || seen.has(peer.id.hex)) return;
    const c: Candidate = { peer, state: "new", depth };
    seen.set(peer.id.hex, c);
    list.push(c);
  };
  for (const p of options.seeds) addPeer(p, 1);

  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      options.signal?.removeEventListener("abort", onAbort);
      const closest = list.filter((c) => c.state === "ok").slice(0, k);
      resolve({ closest: closest.map((c) => c.peer), values, hops: closest[0]?.depth ?? 0, queried, failed });
    };
    const onAbort = () => {
      if (finished) return;
      finished = true;
      reject(new AbortedError("lookup was cancelled"));
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const step = () => {
      if (finished) return;
      if (options.enoughValues && values.length >= options.enoughValues) return finish();
      list = sortByDistance(target, list, (c) => c.peer.key);
      // Candidates far outside the k closest never matter; keep the list bounded.
      if (list.length > k * 8) list = list.slice(0, k * 8);
      // The k closest candidates that have not failed decide termination.
      const live = list.filter((c) => c.state !== "failed").slice(0, k);
      const next = live.filter((c) => c.state === "new");
      if (next.length === 0 && inFlight === 0) return finish();
      for (const c of next) {
        if (inFlight >= alpha) break;
        c.state = "pending";
        inFlight++;
        queried++;
        options.query(c.peer).then(
          (result) => {
            c.state = "ok";
            options.onAnswer?.(c.peer);
            for (const p of result.peers) addPeer(p, c.depth + 1);
            if (result.values) values.push(...result.values);
          },
          (error) => {
            c.state = "failed";
            failed++;
            options.onFailure?.(c.peer, error);
          },
        ).finally(() => {
          inFlight--;
          step();
        });
      }
    };
    step();
  });
}
