/**
 * A short-lived QUIC endpoint for hole punching (`QuicTransport.punchEndpoint`):
 * its own UDP port, bound right after that port pre-opened our NAT towards
 * the peer (TTL-limited datagrams, see `UdpApi.preopen`), listening with
 * the node's TLS identity and dialing from the same port. Every connection
 * it makes or accepts goes to the node like any other (the node adopts it).
 * Once `settle()` was called it closes itself as soon as it holds no
 * connection.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { QuicEndpoint, SocketAddress, UdpPreopenOptions } from "../platform/types.ts";
import type { Connection } from "./connection.ts";
import type { DialOptions } from "./transport.ts";

/** Options of `QuicTransport.punchEndpoint`. */
export interface PunchEndpointOptions {
  /** Local UDP port; 0 (default) picks a free one. */
  port?: number;
  /** Peers' candidate addresses to pre-open our NAT towards before binding (TTL-limited datagrams). */
  preopen?: SocketAddress[];
  /** TTL of the pre-opening datagrams. Default 2 (they die in the first router past our NAT). */
  ttl?: number;
}

/** What pre-opening needs of the platform's UDP (`UdpApi` has it). */
export interface UdpPreopener {
  /** See `UdpApi.preopen`. */
  preopen(options: UdpPreopenOptions): Promise<number>;
}

/** What a `PunchEndpoint` needs from its transport. */
export interface PunchEndpointParts {
  /** The bound endpoint. */
  endpoint: QuicEndpoint;
  /** Dial from `endpoint` (as `QuicTransport.dial`), handing the connection to the node. */
  dial(endpoint: QuicEndpoint, address: SocketAddress, expected: NodeId, options: DialOptions): Promise<Connection>;
  /** Called once the endpoint closed. */
  onClose(endpoint: PunchEndpoint): void;
}

/**
 * A punch endpoint (see the module comment).
 *
 * @example
 * ```ts
 * import type { QuicTransport } from "./quic.ts";
 * import type { NodeId } from "../identity/node-id.ts";
 * declare const quic: QuicTransport;
 * declare const peer: NodeId;
 * const ep = await quic.punchEndpoint({ preopen: [{ hostname: "203.0.113.9", port: 40001 }] });
 * try {
 *   await ep.dial({ hostname: "203.0.113.9", port: 40001 }, peer, { timeout: 3_000 });
 * } finally {
 *   ep.settle(); // closes once no connection of it is left
 * }
 * ```
 */
export class PunchEndpoint {
  #parts: PunchEndpointParts;
  #live = new Set<Connection>();
  #settled = false;
  #closed = false;

  /** @internal Made by `QuicTransport.punchEndpoint`. */
  constructor(parts: PunchEndpointParts) {
    this.#parts = parts;
  }

  /** The local UDP port. */
  get port(): number {
    return this.#parts.endpoint.addr.port;
  }

  /** Live connections made or accepted on this endpoint. */
  get connections(): number {
    return this.#live.size;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Count `conn` as one of this endpoint's connections. */
  track(conn: Connection): void {
    if (this.#closed) return conn.close("punch endpoint closed");
    this.#live.add(conn);
    conn.closed.then(() => {
      this.#live.delete(conn);
      if (this.#settled && this.#live.size === 0) this.close();
    });
  }

  /**
   * Dial `address` from this endpoint and prove the peer is `expected`
   * (as `QuicTransport.dial`). The connection is handed to the node too.
   */
  async dial(address: SocketAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    return await this.#parts.dial(this.#parts.endpoint, address, expected, options);
  }

  /** The attempt is over: close now if no connection is left, else when the last one closes. */
  settle(): void {
    this.#settled = true;
    if (this.#live.size === 0) this.close();
  }

  /** Close the endpoint and every connection on it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#live) c.close("punch endpoint closed");
    this.#live.clear();
    this.#parts.endpoint.close();
    this.#parts.onClose(this);
  }
}
