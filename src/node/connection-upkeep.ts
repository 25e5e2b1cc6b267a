/**
 * Upkeep of the connection manager's connections: retiring a duplicate
 * once its streams are done, trimming one quiet connection to admit a new
 * one, and closing idle ones.
 *
 * @module
 */
import type { Connection } from "../transport/connection.ts";
import { sleep } from "../util/async.ts";

/** The connections of one peer, as the manager keeps them. */
export interface PeerConnections {
  /** The connection in use. */
  current: Connection;
  /** Every live connection to the peer. */
  all: Set<Connection>;
}

/** Options of `retireWhenQuiet`. */
export interface RetireOptions {
  /**
   * Close once no stream moved for this long, ms, even with streams open
   * (idle long-lived streams, e.g. a request channel the peer keeps).
   */
  grace: number;
  /** Close anyway after this long, ms. Default 6 × `grace`. */
  maxAge?: number;
  /** Once the connection carries no stream, wait this long before closing, ms. Default min(1 000, `grace`). */
  settle?: number;
  /** True once the node stops (close at once). */
  stopped(): boolean;
  /** True when `conn` became the connection in use (it is then left open). */
  kept(): boolean;
}

/**
 * Close the duplicate (or superseded relayed) `conn` once it is quiet: when
 * it has carried no stream for `settle` ms, or when no stream on it moved
 * for `grace` ms, or after `maxAge` ms — unless `kept()` says it became the
 * connection in use. Streams still in flight on it (a slow request, a
 * pub/sub stream waiting for its acknowledgements) finish first: a stream
 * that moves keeps the connection up to `maxAge`.
 *
 * @example
 * ```ts
 * import { retireWhenQuiet } from "./connection-upkeep.ts";
 * declare const relayed: import("../transport/connection.ts").Connection;
 * retireWhenQuiet(relayed, { grace: 10_000, stopped: () => false, kept: () => false });
 * ```
 */
export function retireWhenQuiet(conn: Connection, options: RetireOptions): void {
  if (conn.isClosed) return;
  const started = Date.now();
  const maxAge = options.maxAge ?? options.grace * 6;
  const settle = options.settle ?? Math.min(1_000, options.grace);
  (async () => {
    let emptySince = conn.activeStreams === 0 ? started : 0;
    while (!conn.isClosed && !options.stopped()) {
      const now = Date.now();
      if (conn.activeStreams > 0) emptySince = 0;
      else if (emptySince === 0) emptySince = now;
      if (emptySince > 0 && now - emptySince >= settle && now - started >= settle) break;
      if (now - conn.lastActivity >= options.grace || now - started >= maxAge) break;
      await sleep(Math.min(200, Math.max(20, settle / 4)));
    }
    if (!options.kept()) conn.close("duplicate connection");
  })();
}

/** Close the least recently active unprotected peer that has been quiet for a while; false if none is. */
export function trimIdle(
  peers: Iterable<PeerConnections>,
  idleTimeout: number,
  isProtected: (c: Connection) => boolean,
): boolean {
  const quiet = Date.now() - Math.min(5_000, idleTimeout || 5_000);
  let victim: PeerConnections | undefined;
  for (const e of peers) {
    const c = e.current;
    if (c.isClosed || c.lastActivity > quiet || isProtected(c)) continue;
    if (!victim || c.lastActivity < victim.current.lastActivity) victim = e;
  }
  if (!victim) return false;
  for (const c of [...victim.all]) c.close("trimmed to admit a new connection");
  return true;
}

/**
 * Close unprotected connections with no stream opened, closed, read or
 * written for `idleTimeout` ms (long-lived but silent streams, like request
 * channels, do not keep a connection alive).
 */
export function sweepIdle(
  peers: Iterable<PeerConnections>,
  idleTimeout: number,
  isProtected: (c: Connection) => boolean,
): void {
  const cutoff = Date.now() - idleTimeout;
  for (const e of peers) for (const c of e.all) if (c.lastActivity < cutoff && !isProtected(c)) c.close("idle");
}
