/**
 * The SWIM membership engine (with Lifeguard's local health, suspicion
 * confirmations and refutation): probes one member per interval, asks `k`
 * others to probe indirectly when the direct probe fails, suspects, declares
 * dead, and piggybacks membership updates on every message. Transport
 * agnostic: it authenticates and builds datagrams, the caller moves them.
 * This module runs the engine (lifecycle, timers, our incarnation,
 * suspicion and membership transitions); datagrams are handled by
 * `Receiver` (`receiver.ts`), sent by `Outbox` (`outbox.ts`), and probes
 * scheduled by `Prober` (`prober.ts`).
 *
 * @module
 */
import type { NodeId } from "../../identity/node-id.ts";
import { Logger } from "../../log/logger.ts";
import { MetricsRegistry } from "../../metrics/registry.ts";
import type { SocketAddress } from "../../platform/types.ts";
import { sleep } from "../../util/async.ts";
import { type Clock, monotonic, systemClock } from "../clock.ts";
import { Emitter } from "../../util/events.ts";
import { formatEndpoint } from "../endpoint.ts";
import { MAX_DATAGRAM, openEnvelope } from "../envelope.ts";
import { DatagramDropError, type DropReason } from "../errors.ts";
import { type AliveToken, createAliveToken, decodeMessage, type Message, type Update } from "../messages.ts";
import { ClusterMetrics } from "../metrics.ts";
import { DEFAULT_TIMINGS, suspicionFloor, type SwimTimings } from "../options.ts";
import { ReplayGuard } from "../replay-guard.ts";
import { Broadcasts } from "./broadcasts.ts";
import { LocalHealth, StallDetector } from "./health.ts";
import { Prober, shuffle } from "./prober.ts";
import { type Member, Membership, type MemberState } from "./membership.ts";
import { Outbox } from "./outbox.ts";
import { Receiver } from "./receiver.ts";
import type { SwimEvents, SwimOptions } from "./types.ts";

export { MAX_MEMBERS } from "./receiver.ts";

export type { MembershipEvent, SwimEvents, SwimOptions } from "./types.ts";

/**
 * The membership engine of one node.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../../identity/ed25519.ts";
 * import { signerOf } from "../../identity/domain-signature.ts";
 * import { createNodeRecord } from "../../identity/node-record.ts";
 * import { Swim } from "./swim.ts";
 * const kp = KeyPair.generate();
 * const swim = new Swim({
 *   signer: signerOf(kp),
 *   send: (to, bytes) => {}, // e.g. a UDP socket
 *   endpoints: () => ["10.0.0.5:40123"],
 *   record: () => createNodeRecord(kp, { addrs: [], realms: ["default"] }),
 * });
 * swim.events.on("change", (e) => console.log(e.type, e.id.short));
 * swim.start();
 * // swim.receive(datagram, from) for every datagram that arrives
 * await swim.stop();
 * ```
 */
export class Swim {
  readonly id: NodeId;
  readonly timings: SwimTimings;
  readonly events: Emitter<SwimEvents> = new Emitter<SwimEvents>();
  readonly members: Membership;
  readonly health: LocalHealth;
  readonly metrics: ClusterMetrics;
  readonly #o: SwimOptions;
  readonly #guard: ReplayGuard;
  readonly #broadcasts: Broadcasts;
  readonly #stall = new StallDetector();
  readonly #prober: Prober;
  readonly #out: Outbox;
  readonly #receiver: Receiver;
  readonly #log: Logger;
  readonly #clock: Clock;
  #incarnation = 0;
  #token: AliveToken;
  #lastContact = new Map<string, number>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #abort = new AbortController();
  #running = false;
  #leaving = false;

  constructor(options: SwimOptions) {
    this.#o = options;
    this.id = options.signer.id;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.#log = options.log ?? Logger.silent();
    this.metrics = options.metrics ?? new ClusterMetrics(new MetricsRegistry());
    this.#clock = options.clock ?? systemClock;
    // Members' replay state is pinned: a flood of new senders cannot evict it to let old datagrams through.
    this.#guard = new ReplayGuard({ isPinned: (sender) => this.members?.has(sender) ?? false });
    this.#broadcasts = new Broadcasts(this.timings.retransmitMult);
    this.health = new LocalHealth(this.timings.maxLocalHealth);
    this.#token = createAliveToken(options.signer, 0, options.endpoints());
    this.members = new Membership({
      clock: this.#clock,
      onTransition: (m, from, to) => this.#transition(m, from, to),
      suspicion: {
        bounds: () => {
          const n = this.members.live().length + 1;
          const min = suspicionFloor(n, this.timings);
          return {
            min,
            max: min * this.timings.suspicionMaxMult,
            expected: Math.min(this.timings.suspicionMult - 2, n - 2),
          };
        },
        onTimeout: (m) => this.#suspicionTimeout(m),
      },
    });
    const running = () => this.#running;
    this.#out = new Outbox(options, {
      timings: this.timings,
      members: this.members,
      broadcasts: this.#broadcasts,
      metrics: this.metrics,
      log: this.#log,
      running,
    });
    this.#prober = new Prober({
      self: this.id,
      timings: this.timings,
      members: this.members,
      health: this.health,
      stall: this.#stall,
      metrics: this.metrics,
      send: (to, msg) => this.#out.sendTo(to, msg),
      open: (raw) => this.#open(raw),
      mismatch: () => this.#drop("mismatch", 0),
      failed: (m) => this.#suspectLocally(m),
    });
    this.#receiver = new Receiver({
      self: this.id,
      members: this.members,
      broadcasts: this.#broadcasts,
      health: this.health,
      prober: this.#prober,
      metrics: this.metrics,
      events: this.events,
      log: this.#log,
      outbox: this.#out,
      running,
      leaving: () => this.#leaving,
      incarnation: () => this.#incarnation,
      token: () => this.#token,
      bump: (above, also) => this.#bump(above, also),
      contact: (to) => this.contact(to),
      announcement: (reply) => this.announcement(reply),
      open: (bytes) => this.#open(bytes),
      drop: (reason, bytes, error) => this.#drop(reason, bytes, error),
      rateOk: (key, gap) => this.#rateOk(key, gap),
      pick: (addrs) => this.#pick(addrs),
    });
  }

  /** Our incarnation number. */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** Our current alive token. */
  get token(): AliveToken {
    return this.#token;
  }

  /** Start probing and gossiping. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stall.start();
    this.#prober.run(this.#abort.signal);
    this.#timers.push(setInterval(() => this.#out.gossipRound(), this.timings.gossipInterval));
    this.#timers.push(setInterval(() => this.members.sweep(this.timings.deadRetention), 1_000));
  }

  /** Leave gracefully (tell every member) and stop. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#leaving = true;
    const left: Update = { kind: "dead", id: this.id, incarnation: this.#incarnation, by: this.id };
    for (let round = 0; round < 2; round++) {
      for (const m of this.members.live()) this.#out.sendTo(m.addr, { type: "gossip", updates: [left] });
      await sleep(20);
    }
    this.#running = false;
    this.#abort.abort();
    this.#stall.stop();
    for (const t of this.#timers) clearInterval(t);
    this.#prober.stop();
    this.members.clear();
  }

  /** Our endpoints changed: new incarnation, new token, tell everyone. */
  refreshEndpoints(): void {
    this.#bump(this.#incarnation);
  }

  /** A sealed announcement (record + alive token), or null if it does not fit a datagram. */
  announcement(reply: boolean): Uint8Array | null {
    const bytes = this.#out.seal({ type: "announce", record: this.#o.record(), token: this.#token, reply });
    if (bytes.length <= MAX_DATAGRAM) return bytes;
    this.#log.warn("node record too large for a cluster announcement", { bytes: bytes.length });
    return null;
  }

  /** Ask the node at `to` for its announcement (and give it ours). Rate-limited per address. */
  contact(to: SocketAddress): void {
    const key = `addr:${formatEndpoint(to)}`;
    if (!this.#rateOk(key, 1_000)) return;
    const bytes = this.announcement(true);
    if (bytes) this.#out.emit(to, "announce", bytes);
  }

  /**
   * Handle one datagram from `from` (omit `from` for announcements that came
   * over a stream; `multicast` for those received on a group). Returns false
   * if it was dropped (or is our own).
   */
  receive(bytes: Uint8Array, from?: SocketAddress, options: { multicast?: boolean } = {}): boolean {
    return this.#receiver.receive(bytes, from, options);
  }

  /** Authenticate and decode a datagram; drops are counted and give null. */
  #open(bytes: Uint8Array): { sender: NodeId; msg: Message } | null {
    try {
      const opened = openEnvelope(bytes, { key: this.#o.key, guard: this.#guard });
      return { sender: opened.sender, msg: decodeMessage(opened.body) };
    } catch (error) {
      this.#drop(error instanceof DatagramDropError ? error.reason : "malformed", bytes.length, error);
      return null;
    }
  }

  /** Our probe of `m` failed: suspect it, and tell it (so it can refute) and a few others. */
  #suspectLocally(m: Member): void {
    const outcome = this.members.suspect(m.id, m.incarnation, this.id);
    if (outcome === "ignored") return;
    const update: Update = { kind: "suspect", id: m.id, incarnation: m.incarnation, by: this.id };
    this.#broadcasts.add(update);
    if (outcome === "new") {
      const others = shuffle(this.members.live().filter((x) => x !== m)).slice(0, this.timings.gossipFanout);
      this.#out.urgent(update, [m, ...others]);
    }
  }

  #drop(reason: DropReason, bytes: number, error?: unknown): void {
    this.metrics.drop(reason, bytes);
    this.#log.debug("dropped cluster datagram", { reason, error: (error as Error)?.message });
  }

  #rateOk(key: string, gap: number): boolean {
    const now = monotonic();
    const last = this.#lastContact.get(key);
    if (last !== undefined && now - last < gap) return false;
    this.#lastContact.set(key, now);
    if (this.#lastContact.size > 4096) this.#lastContact.delete(this.#lastContact.keys().next().value!);
    return true;
  }

  #pick(addrs: string[]): string {
    return this.#o.pickEndpoint?.(addrs) ?? addrs[0];
  }

  /** Raise our incarnation above `above` and tell everyone (and `also`, who doubted us) we are alive. */
  #bump(above: number, also?: SocketAddress): void {
    this.#incarnation = Math.max(this.#incarnation, above) + 1;
    this.#token = createAliveToken(this.#o.signer, this.#incarnation, this.#o.endpoints());
    const update: Update = { kind: "alive", token: this.#token };
    this.#broadcasts.add(update);
    this.#out.urgent(update, this.members.live());
    if (also) this.#out.sendTo(also, { type: "gossip", updates: [update] });
  }

  #transition(m: Member, from: MemberState | null, to: MemberState): void {
    this.metrics.transitions.inc({ state: to });
    if (to === "suspect") this.#prober.prioritize(m);
    const type = to === "suspect"
      ? "suspect"
      : to === "dead" || to === "left"
      ? "down"
      : from === "suspect"
      ? "alive"
      : "up";
    if (type === "up" || type === "down") {
      this.#log.info(type === "up" ? "cluster member up" : "cluster member down", {
        peer: m.id.short,
        did: m.id.did,
        state: to,
        incarnation: m.incarnation,
      });
    } else {
      this.#log.debug(`cluster member ${type}`, { peer: m.id.short, incarnation: m.incarnation });
    }
    this.events.emit("change", { type, id: m.id, state: to, incarnation: m.incarnation, at: this.#clock() });
  }

  #suspicionTimeout(m: Member): void {
    if (!this.#running || m.state !== "suspect") return m.suspicion?.cancel();
    const late = monotonic() - (m.suspicion?.deadline ?? monotonic());
    if (late > 250 && !m.suspicion?.deferred) {
      // We were frozen when the deadline passed: refutations may be waiting in the socket buffer.
      // Give them a moment (once, so that a node that is merely slow still reaches a verdict).
      return m.suspicion?.defer(1_000);
    }
    if (this.members.dead(m.id, m.incarnation, this.id)) {
      const update: Update = { kind: "dead", id: m.id, incarnation: m.incarnation, by: this.id };
      this.#broadcasts.add(update);
      this.#out.urgent(update, this.members.live());
    }
  }
}
