/**
 * Keeps at most one connection per peer: dials (QUIC first, then TCP,
 * staggered), adopts inbound connections, breaks ties between simultaneous
 * dials deterministically, keeps seeds connected with backoff, closes idle
 * connections and enforces the connection limit.
 *
 * Direct before relayed (transparent upgrade): when a peer is reachable
 * both directly and through a relay node, the direct connection becomes the
 * one in use at once (new streams and requests go there) and the relayed
 * one is retired: it stays open while streams on it are still in flight
 * (slow requests, pub/sub frames waiting for their acknowledgement) and
 * closes once quiet (`retireWhenQuiet`). `dial(id, addrs, { direct: true })`
 * makes a direct connection to a peer reached through a relay.
 *
 * Fallback: when the connection in use closes, the next live one takes
 * over, a direct one before a relayed one. When a direct connection to a
 * peer once reached through a relay dies and nothing is left, the relayed
 * path is dialed again at once (before the peer is reported disconnected),
 * so traffic falls back to the relay without a gap.
 *
 * Tie-break: when two connections to one peer exist in opposite
 * directions, both sides keep the one dialed by the node with the smaller
 * id and close the other once its streams are done (or after a grace
 * period). Of two in the same direction the newer is used and the older
 * left to close on its own, so neither side closes what the other kept.
 *
 * Restarts: before a connection is adopted its peer is asked for its
 * session (a nonce it picks at start, carried in identify). A connection
 * whose session differs from the one the peer's older connections carry
 * proves the peer restarted: the older ones are closed at once (they lead
 * to a dead process), and the peer is reported disconnected and connected
 * again, without waiting for any timeout.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import { formatAddress, type PeerAddress } from "../transport/address.ts";
import type { Connection } from "../transport/connection.ts";
import { DialError, LimitError } from "../transport/errors.ts";
import type { CloseInfo } from "../transport/session.ts";
import type { Transport } from "../transport/transport.ts";
import { deferred } from "../util/async.ts";
import type { MaculaError } from "../util/errors.ts";
import { Emitter } from "../util/events.ts";
import { retireWhenQuiet, sweepIdle, trimIdle } from "./connection-upkeep.ts";
import { raceAttempts } from "./dial-race.ts";
import type { NodeMetrics } from "./node-metrics.ts";
import type { PeerStore } from "./peer-store.ts";

/** The reason of the `peer:disconnect` of a peer found restarted (its new connection follows at once). */
export const PEER_RESTARTED = "superseded: the peer restarted";

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
  /**
   * A retired duplicate or relayed connection closes once no stream on it
   * moved for this long, ms (at once when it carries no stream; after 6 ×
   * this at the latest). Default 10 000.
   */
  duplicateGrace?: number;
}

/**
 * Asks a new connection's peer for its session before the connection is
 * adopted; resolves `undefined` when the peer does not tell one (an older
 * version), rejects when the connection is unusable.
 */
export type SessionProbe = (conn: Connection, signal: AbortSignal) => Promise<string | undefined>;

/** Events of the connection manager. */
export type ConnectionEvents = {
  "peer:connect": [connection: Connection];
  "peer:disconnect": [id: NodeId, info: CloseInfo];
};

/** Options of `ConnectionManager.dial`. */
export interface ManagerDialOptions {
  /** Cancels the dial. */
  signal?: AbortSignal;
  /**
   * Make a direct connection: an open relayed connection is not reused and
   * relayed addresses are not tried (the upgrade from a relay; a direct one
   * open already is returned).
   */
  direct?: boolean;
}

/** What the manager keeps per peer. */
interface Entry {
  /** The connection in use. */
  current: Connection;
  /** Every live connection to the peer (duplicates close on their own). */
  all: Set<Connection>;
  /** The peer's session, when it told one. */
  session?: string;
  /** Whether the peer was ever reached through a relay (its relayed path is dialed again when a direct one dies). */
  viaRelay?: boolean;
  /** When a direct connection to the peer last died (not closed on purpose by us), ms since epoch. */
  directLost?: number;
}

/** A relayed connection that closes this soon after a direct one died is part of the same loss (the peer retired it meanwhile). */
const FALLBACK_WINDOW = 10_000;

/** Manages every connection of a node. */
export class ConnectionManager extends Emitter<ConnectionEvents> {
  #localId: NodeId;
  #transports: readonly Transport[];
  #peers: PeerStore;
  #log: Logger;
  #metrics: NodeMetrics;
  #limits: Required<ConnectionLimits>;
  /** Per peer: the connection in use, every live one (duplicates close on their own), and the peer's session. */
  #conns = new Map<string, Entry>();
  #sessions = new WeakMap<Connection, string>();
  #probe?: SessionProbe;
  #pending = new Map<string, Promise<Connection>>();
  /** Per peer being dialed: resolved by any connection adopted meanwhile (e.g. the peer dialed us first). */
  #arrivals = new Map<string, ReturnType<typeof deferred<Connection>>>();
  #protected = new Map<string, { id: NodeId; attempt: number; timer?: ReturnType<typeof setTimeout> }>();
  #sweeper?: ReturnType<typeof setInterval>;
  /** Peers whose relayed path is being dialed again after their direct connection died (no disconnect reported). */
  #fallingBack = new Set<string>();
  #stopped = false;
  #abort = new AbortController();

  constructor(options: {
    localId: NodeId;
    transports: readonly Transport[];
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

  /**
   * Ask each new connection's peer for its session with `probe` before
   * adopting it (see the module comment). Without a probe, restarts are
   * noticed only when the old connection times out.
   */
  setSessionProbe(probe: SessionProbe): void {
    this.#probe = probe;
  }

  /** The session `conn`'s peer told, if known. */
  sessionOf(conn: Connection): string | undefined {
    return this.#sessions.get(conn);
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
    for (const entry of [...this.#conns.values()]) for (const c of [...entry.all]) c.close("node stopping");
    this.#conns.clear();
  }

  /** The connection to `id`, if any. */
  get(id: NodeId): Connection | undefined {
    const c = this.#conns.get(id.hex)?.current;
    return c && !c.isClosed ? c : undefined;
  }

  /** Every current connection (one per peer). */
  connections(): Connection[] {
    return [...this.#conns.values()].map((e) => e.current).filter((c) => !c.isClosed);
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
    if (existing && !(options.direct && existing.relayed)) return Promise.resolve(existing);
    if (addrs?.length) this.#peers.addAddresses(id, addrs);
    if (options.direct) return this.#dialDirect(id, options);
    const pending = this.#pending.get(id.hex);
    if (pending) return pending;
    // A connection the peer makes meanwhile (a restarted peer dialing back) ends the wait at once.
    const arrival = deferred<Connection>();
    this.#arrivals.set(id.hex, arrival);
    const p = Promise.race([this.#dialNew(id, options), arrival.promise]).finally(() => {
      this.#pending.delete(id.hex);
      this.#arrivals.delete(id.hex);
    });
    this.#pending.set(id.hex, p);
    return p;
  }

  /** A direct connection to `id`, which may be connected through a relay now (one such dial at a time). */
  #dialDirect(id: NodeId, options: ManagerDialOptions): Promise<Connection> {
    const key = `${id.hex}/direct`;
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const p = this.#dialNew(id, options).finally(() => this.#pending.delete(key));
    this.#pending.set(key, p);
    return p;
  }

  async #dialNew(id: NodeId, options: ManagerDialOptions, only?: "relayed"): Promise<Connection> {
    const upgrade = options.direct && this.get(id);
    if (!upgrade && this.#liveCount() >= this.#limits.maxConnections && !this.#trimIdle()) {
      throw new LimitError(`connection limit of ${this.#limits.maxConnections} reached`);
    }
    const candidates = this.#peers.addresses(id).filter((a) =>
      this.#transportFor(a) && (options.direct ? a.type !== "relayed" : only ? a.type === "relayed" : true)
    );
    if (candidates.length === 0) {
      const known = this.#peers.addresses(id).map((a) => formatAddress(a)).join(", ");
      const what = options.direct ? "direct " : only ? "relayed " : "";
      throw new DialError(
        known ? `no transport here for any ${what}address of ${id.did} (${known})` : `no known address for ${id.did}`,
      );
    }
    const signal = options.signal ? AbortSignal.any([options.signal, this.#abort.signal]) : this.#abort.signal;
    let conn: Connection;
    try {
      conn = await raceAttempts(
        candidates.map((addr) => () =>
          this.#transportFor(addr)!.dial(addr, id, { signal, timeout: this.#limits.dialTimeout })
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
    return this.#adopt(conn, await this.#session(conn, signal));
  }

  /** Ask `conn`'s peer for its session; closes `conn` and throws when that fails. */
  async #session(conn: Connection, signal: AbortSignal): Promise<string | undefined> {
    if (!this.#probe) return undefined;
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.#limits.dialTimeout)]);
    try {
      const session = await this.#probe(conn, deadline);
      if (session) this.#sessions.set(conn, session);
      return session;
    } catch (error) {
      conn.close(`identify failed: ${(error as Error).message}`);
      throw new DialError(`identify of ${conn.remoteId.short} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The first transport that can dial `addr`. */
  #transportFor(addr: PeerAddress): Transport | undefined {
    return this.#transports.find((t) => t.canDial(addr));
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
    if (!this.#probe) return void this.#adopt(conn, undefined);
    this.#session(conn, this.#abort.signal).then(
      (session) => this.#stopped ? conn.close("node stopping") : void this.#adopt(conn, session),
      (error) => this.#log.debug("inbound connection not adopted", { peer: conn.remoteId.short, error: error.message }),
    );
  }

  /**
   * Take a new authenticated connection to a peer. The first one becomes the
   * peer's connection. Of a direct and a relayed one the direct is kept. A
   * later one in the opposite direction (both sides
   * dialed at once) is settled by the tie-break and the loser retired. A
   * later one in the same direction (a reconnect, or the slower attempt of a
   * dial race, which its dialer closes) takes over, while the older one
   * stays usable until it closes — so no side ever closes the connection the
   * other side kept.
   */
  #adopt(conn: Connection, session: string | undefined): Connection {
    const key = conn.remoteId.hex;
    let entry = this.#conns.get(key);
    if (entry?.all.has(conn)) return entry.current;
    if (conn.isClosed) throw new DialError(`connection to ${conn.remoteId.short} closed before it was adopted`);
    this.#metrics.connectionsOpened.inc({ transport: conn.transport, direction: conn.direction });
    this.#peers.touch(conn.remoteId);
    if (entry && session && entry.session && session !== entry.session) {
      // The peer restarted: everything carrying its old session leads to a dead process.
      this.#conns.delete(key);
      const reason = PEER_RESTARTED;
      for (const old of entry.all) old.close(reason);
      this.#log.info("peer restarted; replaced its old connections", {
        peer: conn.remoteId.short,
        old: entry.all.size,
      });
      this.#metrics.connectionsSuperseded.inc();
      this.emit("peer:disconnect", conn.remoteId, { reason, local: true });
      entry = undefined;
    }
    if (!entry) {
      entry = { current: conn, all: new Set([conn]), session, viaRelay: conn.relayed };
      this.#conns.set(key, entry);
      this.#watch(conn);
      this.#log.info("peer connected", {
        peer: conn.remoteId.short,
        transport: conn.transport,
        direction: conn.direction,
        addr: conn.remoteAddress,
      });
      // After a fall-back the services never saw the peer go: no second connect either.
      if (!this.#fallingBack.delete(key)) this.emit("peer:connect", conn);
      else entry.viaRelay = true;
      this.#arrivals.get(key)?.resolve(conn);
      return conn;
    }
    entry.all.add(conn);
    entry.session ??= session;
    if (conn.relayed) entry.viaRelay = true;
    this.#watch(conn);
    const current = entry.current;
    if (!current.isClosed && current.relayed !== conn.relayed) {
      // A direct connection beats one through a relay, whoever dialed.
      const [winner, loser] = conn.relayed ? [current, conn] : [conn, current];
      this.#log.debug("direct and relayed connections", { peer: conn.remoteId.short, keep: "direct" });
      entry.current = winner;
      this.#retire(loser, entry);
      return winner;
    }
    if (current.isClosed || current.direction === conn.direction) {
      entry.current = conn;
      return conn;
    }
    const keepNew = this.#prefer(conn, current);
    const [winner, loser] = keepNew ? [conn, current] : [current, conn];
    this.#log.debug("simultaneous connections", {
      peer: conn.remoteId.short,
      keep: `${winner.transport}/${winner.direction}`,
      drop: `${loser.transport}/${loser.direction}`,
    });
    entry.current = winner;
    this.#retire(loser, entry);
    return winner;
  }

  /** Of two connections in opposite directions, keep the one the smaller id dialed. */
  #prefer(a: Connection, b: Connection): boolean {
    const localIsSmaller = this.#localId.compare(a.remoteId) < 0;
    const preferred = localIsSmaller ? "outbound" : "inbound";
    return a.direction === preferred && b.direction !== preferred;
  }

  #watch(conn: Connection): void {
    const key = conn.remoteId.hex;
    conn.closed.then((info) => {
      this.#metrics.connectionsClosed.inc({ transport: conn.transport });
      const entry = this.#conns.get(key);
      // Not after a deliberate close of ours (idle, trimmed, stopping), which carries no error.
      const lost = !info.local || !!info.error;
      if (entry && lost && !conn.relayed) entry.directLost = Date.now();
      if (!entry?.all.delete(conn) || entry.current !== conn) return;
      // Newest first, a direct one before a relayed one.
      const live = [...entry.all].reverse().filter((c) => !c.isClosed);
      const next = live.find((c) => !c.relayed) ?? live[0];
      if (next) {
        entry.current = next;
        if (next.relayed && !conn.relayed) {
          this.#log.info("direct connection lost; using the relayed one", { peer: conn.remoteId.short });
        }
        return;
      }
      this.#conns.delete(key);
      // The direct path died (and perhaps the relayed one the peer was retiring meanwhile): dial the relay again.
      const directDied = !conn.relayed || Date.now() - (entry.directLost ?? 0) < FALLBACK_WINDOW;
      if (entry.viaRelay && lost && directDied && !this.#stopped) {
        this.#fallBack(conn.remoteId, info);
        return;
      }
      this.#disconnected(conn.remoteId, info);
    });
  }

  #disconnected(id: NodeId, info: CloseInfo): void {
    this.#log.info("peer disconnected", { peer: id.short, reason: info.reason });
    this.emit("peer:disconnect", id, info);
    if (this.#protected.has(id.hex)) this.#scheduleReconnect(id, this.#limits.backoffInitial);
  }

  /**
   * The direct connection to a peer once reached through a relay died with
   * nothing left: dial its relayed path again at once. Callers meanwhile
   * wait for that dial (`dial` finds it pending); the peer is reported
   * disconnected only if it fails.
   */
  #fallBack(id: NodeId, info: CloseInfo): void {
    this.#fallingBack.add(id.hex);
    this.#log.info("direct connection lost; dialing the relayed path again", { peer: id.short, reason: info.reason });
    const dial = this.#pending.get(id.hex) ?? this.#dialNew(id, {}, "relayed");
    const p = dial.finally(() => {
      if (this.#pending.get(id.hex) === p) this.#pending.delete(id.hex);
    });
    this.#pending.set(id.hex, p);
    p.then(
      (conn) => this.#log.info("fell back to the relayed path", { peer: id.short, transport: conn.transport }),
      (error) => {
        this.#log.info("relayed path lost too", { peer: id.short, error: (error as Error).message });
        this.#fallingBack.delete(id.hex);
        if (!this.get(id)) this.#disconnected(id, info);
      },
    );
  }

  /** Close the duplicate `conn` once its streams are done, unless it became the peer's connection meanwhile. */
  #retire(conn: Connection, entry: Entry): void {
    retireWhenQuiet(conn, {
      grace: this.#limits.duplicateGrace,
      stopped: () => this.#stopped,
      // The kept one died meanwhile and this one took over: never close the last live connection.
      kept: () => entry.current === conn && this.#conns.get(conn.remoteId.hex) === entry,
    });
  }

  #liveCount(): number {
    let n = 0;
    for (const e of this.#conns.values()) if (!e.current.isClosed) n++;
    return n;
  }

  #trimIdle(): boolean {
    return trimIdle(this.#conns.values(), this.#limits.idleTimeout, (c) => this.#protected.has(c.remoteId.hex));
  }

  #sweepIdle(): void {
    sweepIdle(this.#conns.values(), this.#limits.idleTimeout, (c) => this.#protected.has(c.remoteId.hex));
  }
}
