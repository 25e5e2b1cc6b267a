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

/**
 * Close the duplicate `conn` once its streams are done (or after
 * `grace` ms), unless `kept()` says it became the connection in use.
 */
export function retireWhenQuiet(
  conn: Connection,
  options: { grace: number; stopped(): boolean; kept(): boolean },
): void {
  if (conn.isClosed) return;
  const deadline = Date.now() + options.grace;
  (async () => {
    while (
      !conn.isClosed && conn.activeStreams > 0 && Date.now() - conn.lastActivity < 1_000 && Date.now() < deadline &&
      !options.stopped()
    ) {
      await sleep(200);
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
