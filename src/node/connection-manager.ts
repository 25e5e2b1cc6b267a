/**
 * Keeps at most one connection per peer: dials (QUIC first, then TCP,
 * staggered), adopts inbound connections, breaks ties between simultaneous
 * dials deterministically, keeps seeds connected with backoff, closes idle
 * connections and enforces the connection limit.
 *
 * Tie-break: when two connections to one peer exist in opposite
 * directions, both sides keep the one dialed by the node with the smaller
 * id; of two in the same direction, the newer wins. The loser is closed
 * once its streams are done (or after a grace period).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import { formatAddress, type PeerAddress } from "../transport/address.ts";
import type { Connection } from "../transport/connection.ts";
import { DialError, LimitError } from "../transport/errors.ts";
import type { CloseInfo, TransportKind } from "../transport/session.ts";
import type { Transport } from "../transport/transport.ts";
import { sleep } from "../util/async.ts";
import type { MaculaError } from "../util/errors.ts";
import { Emitter } from "../util/events.ts";
import { raceAttempts } from "./dial-race.ts";
import type { NodeMetrics } from "./node-metrics.ts";
import type { PeerStore } from "./peer-store.ts";

/** Tunables of the connection manager. */
export interface ConnectionLimits {
  /** Most connections at once. Default 256. */
  maxConnections?: number;
  /** Close connections with no stream activity for this long, ms (0 = never). Default 300 000. */
  idleTimeout?: number;
  /** Deadline of one dial attempt, ms. Default 10 000. */
  dialTimeout?: number;
  /** Delay before the next address is tried while one is pending, ms. Default 300. */
  dialStagger?: number;
  /** First reconnect delay for seeds, ms. Default 1 000. */
  backoffInitial?: number;
  /** Largest reconnect delay for seeds, ms. Default 60 000. */
  backoffMax?: number;
  /** Grace period before a duplicate connection is closed anyway, ms. Default 10 000. */
  duplicateGrace?: number;
}

/** Events of the connection manager. */
export type ConnectionEvents = {
  "peer:connect": [connection: Connection];
  "peer:disconnect": [id: NodeId, info: CloseInfo];
};

/** Options of `ConnectionManager.dial`. */
export interface ManagerDialOptions {
  signal?: AbortSignal;
}

/** Manages every connection of a node. */
export class ConnectionManager extends Emitter<ConnectionEvents> {
  #localId: NodeId;
  #transports: Map<TransportKind, Transport>;
  #peers: PeerStore;
  #log: Logger;
  #metrics: NodeMetrics;
  #limits: Required<ConnectionLimits>;
  #conns = new Map<string, Connection>();
  #retiring = new Set<Connection>();
  #pending = new Map<string, Promise<Connection>>();
  #protected = new Map<string, { id: NodeId; attempt: number; timer?: ReturnType<typeof setTimeout> }>();
  #sweeper?: ReturnType<typeof setInterval>;
  #stopped = false;
  #abort = new AbortController();

  constructor(options: {
    localId: NodeId;
    transports: Map<TransportKind, Transport>;
    peerStore: PeerStore;
    log: Logger;
    metrics: NodeMetrics;
    limits?: ConnectionLimits;
  }) {
    super();
    this.#localId = options.localId;
    this.#transports = options.transports;
    this.#peers = options.peerStore;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#limits = {
      maxConnections: 256,
      idleTimeout: 300_000,
      dialTimeout: 10_000,
      dialStagger: 300,
      backoffInitial: 1_000,
      backoffMax: 60_000,
      duplicateGrace: 10_000,
      ...options.limits,
    };
  }

  /** Start background maintenance (idle sweeps). */
  start(): void {
    const idle = this.#limits.idleTimeout;
    if (idle > 0) {
      this.#sweeper = setInterval(() => this.#sweepIdle(), Math.min(30_000, Math.max(1_000, idle / 2)));
    }
  }

  /** Close everything and stop reconnecting. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    clearInterval(this.#sweeper);
    for (const p of this.#protected.values()) clearTimeout(p.timer);
    for (const c of [...this.#conns.values(), ...this.#retiring]) c.close("node stopping");
    this.#conns.clear();
    this.#retiring.clear();
  }

  /** The connection to `id`, if any. */
  get(id: NodeId): Connection | undefined {
    const c = this.#conns.get(id.hex);
    return c && !c.isClosed ? c : undefined;
  }

  /** Every current connection (one per peer). */
  connections(): Connection[] {
    return [...this.#conns.values()].filter((c) => !c.isClosed);
  }

  /** Is `id` kept connected (a seed)? */
  isProtected(id: NodeId): boolean {
    return this.#protected.has(id.hex);
  }

  /**
   * Keep `id` connected: dial now and reconnect with exponential backoff
   * (with jitter) whenever the connection is lost or a dial fails.
   */
  protect(id: NodeId): void {
    if (id.equals(this.#localId) || this.#protected.has(id.hex)) return;
    this.#protected.set(id.hex, { id, attempt: 0 });
    this.#scheduleReconnect(id, 0);
  }

  /** Stop keeping `id` connected. */
  unprotect(id: NodeId): void {
    const p = this.#protected.get(id.hex);
    if (p) clearTimeout(p.timer);
    this.#protected.delete(id.hex);
  }

  #scheduleReconnect(id: NodeId, delay: number): void {
    const p = this.#protected.get(id.hex);
    if (!p || this.#stopped) return;
    clearTimeout(p.timer);
    p.timer = setTimeout(async () => {
      if (this.#stopped || this.get(id)) return;
      try {
        await this.dial(id);
        p.attempt = 0;
      } catch (error) {
        p.attempt++;
        const base = Math.min(this.#limits.backoffMax, this.#limits.backoffInitial * 2 ** (p.attempt - 1));
        const next = Math.round(base * (0.75 + Math.random() * 0.5));
        this.#log.debug("seed dial failed; retrying", { peer: id.short, in_ms: next, error: (error as Error).message });
        this.#scheduleReconnect(id, next);
      }
    }, delay);
  }

  /**
   * Connect to `id`, reusing an existing connection. Addresses come from
   * `addrs` or the peer store; QUIC addresses are tried first.
   */
  dial(id: NodeId, addrs?: PeerAddress[], options: ManagerDialOptions = {}): Promise<Connection> {
    if (this.#stopped) return Promise.reject(new DialError("node is stopped"));
    if (id.equals(this.#localId)) return Promise.reject(new DialError("refusing to dial our own node id"));
    const existing = this.get(id);
    if (existing) return Promise.resolve(existing);
    if (addrs?.length) this.#peers.addAddresses(id, addrs);
    const pending = this.#pending.get(id.hex);
    if (pending) return pending;
    const p = this.#dialNew(id, options).finally(() => this.#pending.delete(id.hex));
    this.#pending.set(id.hex, p);
    return p;
  }

  async #dialNew(id: NodeId, options: ManagerDialOptions): Promise<Connection> {
    if (this.#liveCount() >= this.#limits.maxConnections && !this.#trimIdle()) {
      throw new LimitError(`connection limit of ${this.#limits.maxConnections} reached`);
    }
    const candidates = this.#peers.addresses(id).filter((a) => this.#transports.has(a.kind));
    if (candidates.length === 0) {
      const known = this.#peers.addresses(id).map((a) => formatAddress(a)).join(", ");
      throw new DialError(
        known ? `no transport here for any address of ${id.did} (${known})` : `no known address for ${id.did}`,
      );
    }
    const signal = options.signal ? AbortSignal.any([options.signal, this.#abort.signal]) : this.#abort.signal;
    let conn: Connection;
    try {
      conn = await raceAttempts(
        candidates.map((addr) => () =>
          this.#transports.get(addr.kind)!.dial(addr, id, { signal, timeout: this.#limits.dialTimeout })
        ),
        { stagger: this.#limits.dialStagger, signal, onLoser: (c) => c.close("lost dial race") },
      );
    } catch (error) {
      const causes = error instanceof AggregateError ? error.errors : [error];
      for (const cause of causes) {
        this.#metrics.dialFailures.inc({ code: (cause as MaculaError)?.code ?? "E_UNKNOWN" });
      }
      const detail = causes.map((e, i) =>
        `${formatAddress(candidates[i] ?? candidates[0])}: ${(e as Error)?.message ?? e}`
      )
        .join("; ");
      const mismatch = causes.find((e) => (e as MaculaError)?.code === "E_PEER_ID_MISMATCH");
      if (mismatch && causes.length === 1) throw mismatch;
      throw new DialError(`could not connect to ${id.did}: ${detail}`, { cause: error });
    }
    return this.#adopt(conn);
  }

  /** Take an authenticated inbound connection from a transport. */
  accept(conn: Connection): void {
    if (this.#stopped) return conn.close("node stopping");
    if (conn.remoteId.equals(this.#localId)) return conn.close("connection to self");
    const isNewPeer = !this.get(conn.remoteId);
    if (
      isNewPeer && this.#liveCount() >= this.#limits.maxConnections && !this.isProtected(conn.remoteId) &&
      !this.#trimIdle()
    ) {
      this.#log.warn("connection limit reached; closing inbound connection", { peer: conn.remoteId.short });
      this.#metrics.streamsRefused.inc({ reason: "connection_limit" });
      conn.close("connection limit reached");
      return;
    }
    this.#adopt(conn);
  }

  #adopt(conn: Connection): Connection {
    const key = conn.remoteId.hex;
    const existing = this.#conns.get(key);
    if (existing === conn) return conn;
    if (!existing || existing.isClosed) {
      this.#install(conn, true);
      return conn;
    }
    const keepNew = this.#prefer(conn, existing);
    const [winner, loser] = keepNew ? [conn, existing] : [existing, conn];
    this.#log.debug("duplicate connection", {
      peer: conn.remoteId.short,
      keep: `${winner.transport}/${winner.direction}`,
      drop: `${loser.transport}/${loser.direction}`,
    });
    if (keepNew) this.#install(conn, false);
    this.#retire(loser);
    return winner;
  }

  /** Should `a` (new) replace `b` (existing)? */
  #prefer(a: Connection, b: Connection): boolean {
    if (a.direction === b.direction) return true;
    const localIsSmaller = this.#localId.compare(a.remoteId) < 0;
    const preferred = localIsSmaller ? "outbound" : "inbound";
    return a.direction === preferred;
  }

  #install(conn: Connection, isNewPeer: boolean): void {
    const key = conn.remoteId.hex;
    this.#conns.set(key, conn);
    this.#metrics.connectionsOpened.inc({ transport: conn.transport, direction: conn.direction });
    this.#peers.touch(conn.remoteId);
    conn.closed.then((info) => {
      this.#metrics.connectionsClosed.inc({ transport: conn.transport });
      if (this.#conns.get(key) !== conn) return;
      this.#conns.delete(key);
      this.#log.info("peer disconnected", { peer: conn.remoteId.short, reason: info.reason });
      this.emit("peer:disconnect", conn.remoteId, info);
      if (this.#protected.has(key)) this.#scheduleReconnect(conn.remoteId, this.#limits.backoffInitial);
    });
    if (isNewPeer) {
      this.#log.info("peer connected", {
        peer: conn.remoteId.short,
        transport: conn.transport,
        direction: conn.direction,
        addr: conn.remoteAddress,
      });
      this.emit("peer:connect", conn);
    }
  }

  #retire(conn: Connection): void {
    if (conn.isClosed) return;
    this.#retiring.add(conn);
    conn.closed.then(() => this.#retiring.delete(conn));
    const deadline = Date.now() + this.#limits.duplicateGrace;
    const check = async () => {
      while (
        !conn.isClosed && conn.activeStreams > 0 && Date.now() - conn.lastActivity < 1_000 && Date.now() < deadline &&
        !this.#stopped
      ) {
        await sleep(200);
      }
      conn.close("duplicate connection");
    };
    check();
  }

  #liveCount(): number {
    let n = 0;
    for (const c of this.#conns.values()) if (!c.isClosed) n++;
    return n;
  }

  /** Close the least recently active unprotected connection that has been quiet for a while. */
  #trimIdle(): boolean {
    const quiet = Date.now() - Math.min(5_000, this.#limits.idleTimeout || 5_000);
    let victim: Connection | undefined;
    for (const c of this.#conns.values()) {
      if (c.isClosed || c.lastActivity > quiet || this.#protected.has(c.remoteId.hex)) continue;
      if (!victim || c.lastActivity < victim.lastActivity) victim = c;
    }
    if (!victim) return false;
    victim.close("trimmed to admit a new connection");
    return true;
  }

  #sweepIdle(): void {
    const cutoff = Date.now() - this.#limits.idleTimeout;
    // Idle: no stream opened, closed, read or written for idleTimeout (long-lived but
    // silent streams, like request channels, do not keep a connection alive).
    for (const c of this.#conns.values()) {
      if (c.lastActivity < cutoff && !this.#protected.has(c.remoteId.hex)) c.close("idle");
    }
  }
}
