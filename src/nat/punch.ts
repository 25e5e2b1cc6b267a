/**
 * `PunchService` ("punch"): upgrades relayed connections to direct QUIC
 * connections by hole punching. When a connection through a relay is
 * established, the side that dialed it runs `/macula/punch/1` with the
 * peer (`punch-attempt.ts`): up to 3 attempts on fresh ports; if none gives
 * a direct connection the peer stays relayed and the service tries again
 * later (after 1, 5, then every 15 minutes by default). When both sides
 * know their NAT maps endpoint-dependently ("symmetric") it does not try,
 * and says so. A direct connection, once the node has one, is preferred by
 * the connection manager over the relayed one, which then closes after its
 * grace period.
 *
 * Status: the node's public view (`self`), result counts, and per peer
 * its state (`punching`, `direct`, `relayed`, `stays-relayed` with a
 * reason), attempts and the last result. Metrics: see `punch-metrics.ts`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { NodeService, ServiceHost } from "../node/service.ts";
import { type ServiceKey, serviceKey } from "../node/service.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { sleep } from "../util/async.ts";
import {
  type AttemptContext,
  type AttemptResult,
  initiatePunch,
  type PunchLink,
  respondPunch,
} from "./punch-attempt.ts";
import { PUNCH_PROTOCOL, type SkipReason } from "./punch-messages.ts";
import { createPunchMetrics, type PunchMetrics } from "./punch-metrics.ts";
import { ObservedSelf, punchCandidates, type SelfView, type SelfViewSource } from "./punch-self.ts";

/** The QUIC link as the punch service uses it (`QuicTransport` fits). */
export interface PunchQuic extends PunchLink {
  /** Was `connection` made by a punch endpoint (its observed address says nothing of the listening port)? */
  isPunched?(connection: Connection): boolean;
}

/** Options of `PunchService`. */
export interface PunchOptions {
  /** The QUIC link to punch with; without it the service only declines (`no-quic`). */
  quic?: PunchQuic;
  /** The node's public view, from what peers report through identify; default: that report as it is. */
  selfView?: SelfViewSource;
  /** Local IPv4 addresses to offer as candidates (same-LAN peers). Default none. */
  localAddresses?: () => string[];
  /** Attempts per round. Default 3. */
  attempts?: number;
  /** Delays before the next rounds, ms; the last repeats. Default 60 000, 300 000, 900 000. */
  retryDelays?: number[];
  /** Deadline of the exchange and of the dials of one attempt, ms. Default 3 000. */
  timeout?: number;
  /** Pause between attempts of a round, ms. Default 250. */
  attemptGap?: number;
  /**
   * Attempts a peer may ask us to answer per minute (each opens a UDP port
   * and sends to its candidates); more are declined as `busy`. Default 10.
   */
  maxAnswersPerMinute?: number;
}

/** Where a peer stands. */
export type PunchState = "punching" | "direct" | "relayed" | "stays-relayed" | "disconnected";

/** What the service reports per peer (`status().peers`). */
export interface PunchPeerStatus {
  /** The peer's did:key. */
  peer: string;
  /** Where it stands. */
  state: PunchState;
  /** Why it stays relayed, or the last result's reason. */
  reason?: string;
  /** Attempts with this peer so far, either role. */
  attempts: number;
  /** The last attempt: its result, our role, when it ended (ms since epoch). */
  last?: AttemptResult & { role: "initiator" | "responder"; at: number };
  /** Relayed contact → direct, ms (when it became direct by punching). */
  timeToDirect?: number;
  /** When the next round starts, ms since epoch. */
  nextRetryAt?: number;
}

interface PeerState {
  id: NodeId;
  since: number;
  state: PunchState;
  reason?: string;
  attempts: number;
  last?: PunchPeerStatus["last"];
  timeToDirect?: number;
  initiating: boolean;
  /** Ends the responder attempt in progress, while one is (a new attempt of the peer replaces it). */
  responding?: AbortController;
  round: number;
  /** When we answered this peer's recent attempts, ms since epoch (the last minute's). */
  answered: number[];
  retry?: ReturnType<typeof setTimeout>;
  nextRetryAt?: number;
}

/** The service's key (for `needs` and `node.service`). */
export const PUNCH: ServiceKey<PunchService> = serviceKey("punch");

const MAX_PEERS = 128;

/**
 * The hole-punching service.
 *
 * @example
 * ```ts
 * import { PunchService } from "./punch.ts";
 * import { Node } from "../../mod.ts";
 * import { QuicTransport } from "../transport/quic.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const platform = currentPlatform();
 * const quic = new QuicTransport(platform.quic!, { port: 0, udp: platform.udp });
 * await using node = await Node.start({ transports: [quic, "tcp"], punch: false, services: [new PunchService({ quic })] });
 * ```
 */
export class PunchService implements NodeService {
  readonly name = "punch";
  #opts: Required<Omit<PunchOptions, "quic" | "selfView">>;
  #quic?: PunchQuic;
  #observed = new ObservedSelf();
  #selfView: SelfViewSource;
  #host?: ServiceHost;
  #metrics?: PunchMetrics;
  #peers = new Map<string, PeerState>();
  #counts = { direct: 0, failed: 0, skipped: 0 };
  #offs: Array<() => void> = [];
  #stop = new AbortController();

  /** A punch service with `options`. */
  constructor(options: PunchOptions = {}) {
    this.#quic = options.quic;
    this.#selfView = options.selfView ?? ((observed) => observed);
    this.#opts = {
      localAddresses: () => [],
      attempts: 3,
      retryDelays: [60_000, 300_000, 900_000],
      timeout: 3_000,
      attemptGap: 250,
      maxAnswersPerMinute: 10,
      ...options,
    };
  }

  start(host: ServiceHost): void {
    this.#host = host;
    this.#metrics = createPunchMetrics(host.metrics);
    this.#offs.push(
      host.handle(PUNCH_PROTOCOL, (stream) => this.#respond(stream)),
      host.on("peer:identify", (_record, conn, observed) => {
        if (conn.relayed || observed.transport !== "quic" || this.#quic?.isPunched?.(conn)) return;
        this.#observed.add({ by: conn.remoteId.hex, address: observed.address, at: observed.at });
      }),
      host.on("peer:connect", (conn) => {
        if (!conn.relayed) return;
        const st = this.#state(conn.remoteId, true);
        st.state = "relayed";
        if (conn.direction === "outbound") void this.#round(st);
      }),
      host.on("peer:disconnect", (id) => {
        const st = this.#peers.get(id.hex);
        if (!st) return;
        clearTimeout(st.retry);
        st.retry = undefined;
        st.nextRetryAt = undefined;
        st.state = "disconnected";
      }),
    );
  }

  stop(): void {
    this.#stop.abort();
    for (const off of this.#offs.splice(0)) off();
    for (const st of this.#peers.values()) clearTimeout(st.retry);
  }

  /** The node's public view as the service uses it. */
  selfView(): SelfView {
    return this.#selfView(this.#observed.view());
  }

  /** Per-peer state (newest contact last). */
  peerStates(): PunchPeerStatus[] {
    return [...this.#peers.values()].map((st) => ({
      peer: st.id.did,
      state: st.state,
      reason: st.reason,
      attempts: st.attempts,
      last: st.last,
      timeToDirect: st.timeToDirect,
      nextRetryAt: st.nextRetryAt,
    }));
  }

  status(): Record<string, unknown> {
    return { enabled: !!this.#quic, self: this.selfView(), results: { ...this.#counts }, peers: this.peerStates() };
  }

  peerInfo(id: NodeId): Record<string, unknown> | undefined {
    const st = this.#peers.get(id.hex);
    return st ? { punch: st.state, ...(st.reason ? { punchReason: st.reason } : {}) } : undefined;
  }

  /** Start a round with `peer` now (it must be connected through a relay); resolves when the round ends. */
  punch(peer: NodeId): Promise<void> {
    return this.#round(this.#state(peer, false));
  }

  #state(id: NodeId, contact: boolean): PeerState {
    let st = this.#peers.get(id.hex);
    if (!st) {
      st = { id, since: Date.now(), state: "relayed", attempts: 0, initiating: false, round: 0, answered: [] };
      this.#peers.set(id.hex, st);
      for (const [key, old] of this.#peers) {
        if (this.#peers.size <= MAX_PEERS) break;
        if (old.initiating || old.responding) continue;
        clearTimeout(old.retry);
        this.#peers.delete(key);
      }
    } else if (contact) {
      st.since = Date.now();
      st.timeToDirect = undefined;
      st.reason = undefined;
      st.round = 0;
    }
    return st;
  }

  /** The context of an attempt over `conn` (the attempt stops when `conn` closes or the service stops). */
  #context(peer: NodeId, conn: Connection, end?: AbortSignal): AttemptContext {
    const host = this.#host!;
    const gone = new AbortController();
    conn.closed.then(() => gone.abort());
    return {
      link: this.#quic!,
      peer,
      candidates: (port) => punchCandidates(this.selfView(), port, this.#opts.localAddresses()),
      mapping: () => this.selfView().mapping,
      isDirect: () => {
        const c = host.connection(peer);
        return !!c && !c.relayed;
      },
      timeout: this.#opts.timeout,
      signal: AbortSignal.any([this.#stop.signal, gone.signal]),
      stop: end ? AbortSignal.any([this.#stop.signal, end]) : this.#stop.signal,
    };
  }

  #record(st: PeerState, res: AttemptResult, role: "initiator" | "responder"): void {
    st.attempts++;
    st.last = { ...res, role, at: Date.now() };
    this.#counts[res.result]++;
    this.#metrics!.results.inc({ result: res.result, reason: res.reason });
    if (res.result !== "direct") {
      this.#host!.log.debug("punch attempt", {
        peer: st.id.short,
        role,
        result: res.result,
        reason: res.reason,
        ms: res.ms,
      });
    }
    if (res.result === "direct") this.#markDirect(st, role, res.ms);
  }

  /** The node is direct with the peer now, by punching: note the time since the relayed contact (once). */
  #markDirect(st: PeerState, role: "initiator" | "responder", attemptMs?: number): void {
    if (st.state === "direct") return;
    st.state = "direct";
    st.reason = undefined;
    st.timeToDirect = Date.now() - st.since;
    this.#metrics!.timeToDirect(st.timeToDirect);
    this.#host!.log.info("direct connection by hole punching", {
      peer: st.id.short,
      role,
      ms: st.timeToDirect,
      attempt_ms: attemptMs,
    });
  }

  async #round(st: PeerState): Promise<void> {
    const host = this.#host!;
    if (st.initiating || this.#stop.signal.aborted) return;
    st.initiating = true;
    clearTimeout(st.retry);
    st.retry = st.nextRetryAt = undefined;
    try {
      if (!this.#quic) {
        this.#stays(st, "no-quic", false);
        return;
      }
      let last: AttemptResult | undefined;
      for (let n = 1; n <= this.#opts.attempts; n++) {
        const conn = host.connection(st.id);
        if (!conn || this.#stop.signal.aborted) return;
        if (!conn.relayed) {
          // The previous attempt's dials completed after it gave up (or the peer's did).
          if (n > 1) this.#markDirect(st, "initiator");
          return;
        }
        st.state = "punching";
        this.#metrics!.attempts.inc({ role: "initiator" });
        last = await initiatePunch(conn, n, this.#context(st.id, conn));
        this.#record(st, last, "initiator");
        if (last.result === "direct") return;
        if (last.result === "skipped") break;
        if (n < this.#opts.attempts) await sleep(this.#opts.attemptGap, this.#stop.signal).catch(() => {});
      }
      if (st.state === "direct") return;
      if (last?.reason === "busy") {
        st.state = "relayed"; // the peer runs its own round with us
        return;
      }
      const reason = last?.result === "skipped"
        ? last.reason
        : `failed ${this.#opts.attempts} attempts (${last?.reason})`;
      this.#stays(st, reason, true);
    } finally {
      st.initiating = false;
    }
  }

  /** The peer stays relayed for `reason`; retry later if `retry` (and the peer is still relayed then). */
  #stays(st: PeerState, reason: string, retry: boolean): void {
    st.state = "stays-relayed";
    st.reason = reason;
    this.#host!.log.info("staying relayed", { peer: st.id.short, reason });
    if (!retry || this.#stop.signal.aborted) return;
    const delays = this.#opts.retryDelays;
    if (delays.length === 0) return;
    const delay = delays[Math.min(st.round, delays.length - 1)];
    st.round++;
    st.nextRetryAt = Date.now() + delay;
    st.retry = setTimeout(() => {
      st.retry = st.nextRetryAt = undefined;
      const c = this.#host?.connection(st.id);
      if (c?.relayed) void this.#round(st);
    }, delay);
  }

  async #respond(stream: Stream): Promise<void> {
    const host = this.#host!;
    const st = this.#state(stream.remoteId, false);
    // A new attempt of the peer replaces the one we answer (the peer gave that one up).
    st.responding?.abort();
    const mine = new AbortController();
    st.responding = mine;
    const decline = (peerNat: string): SkipReason | null => {
      const c = host.connection(st.id);
      if (c && !c.relayed) return "already-direct";
      if (!this.#quic) return "no-quic";
      if (peerNat === "endpoint-dependent" && this.selfView().mapping === "endpoint-dependent") {
        return "both-endpoint-dependent";
      }
      // Both sides started a round at once: the smaller id's round goes on.
      if (st.initiating && host.id.compare(st.id) < 0) return "busy";
      const now = Date.now();
      st.answered = st.answered.filter((t) => now - t < 60_000);
      if (st.answered.length >= this.#opts.maxAnswersPerMinute) return "busy";
      st.answered.push(now);
      return null;
    };
    this.#metrics!.attempts.inc({ role: "responder" });
    try {
      if (st.state !== "direct") st.state = "punching";
      const res = await respondPunch(stream, this.#context(st.id, stream.connection, mine.signal), decline);
      this.#record(st, res, "responder");
      if (res.result === "direct") return;
      if (res.reason === "both-endpoint-dependent") {
        st.state = "stays-relayed";
        st.reason = res.reason;
      } else if (host.connection(st.id)?.relayed === false) {
        this.#markDirect(st, "responder");
      } else if (st.state === "punching") {
        st.state = "relayed";
      }
    } finally {
      if (st.responding === mine) st.responding = undefined;
    }
  }
}
