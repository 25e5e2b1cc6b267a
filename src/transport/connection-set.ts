/**
 * The connections a link created: wraps sessions into `Connection`s with the
 * node's gate and options, and closes whatever is still open when the link
 * shuts down.
 *
 * @module
 */
import { Connection } from "./connection.ts";
import type { Session } from "./session.ts";
import type { TransportContext } from "./transport.ts";

/**
 * Tracks a link's live connections.
 *
 * @example
 * ```ts
 * import { ConnectionSet } from "./connection-set.ts";
 * declare const ctx: import("./transport.ts").TransportContext;
 * declare const session: import("./session.ts").Session;
 * const connections = new ConnectionSet(ctx);
 * const conn = connections.wrap(session);
 * connections.closeAll("shutting down");
 * ```
 */
export class ConnectionSet {
  #ctx: TransportContext;
  #live = new Set<Connection>();

  constructor(ctx: TransportContext) {
    this.#ctx = ctx;
  }

  /** Wrap an authenticated session; it is forgotten once closed. */
  wrap(session: Session): Connection {
    const conn = new Connection(session, this.#ctx.gate, this.#ctx.connectionOptions);
    this.#live.add(conn);
    conn.closed.then(() => this.#live.delete(conn));
    return conn;
  }

  /** Close every live connection. */
  closeAll(reason: string): void {
    for (const c of this.#live) c.close(reason);
    this.#live.clear();
  }
}
