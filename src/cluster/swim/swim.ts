/**
 * The SWIM membership engine (with Lifeguard's local health, suspicion
 * confirmations and refutation): probes one member per interval, asks `k`
 * others to probe indirectly when the direct probe fails, suspects, declares
 * dead, and piggybacks membership updates on every message. Transport
 * agnostic: it authenticates and builds datagrams, the caller moves them.
 *
 * @module
 */
import type { KeyPair } from "../../identity/ed25519.ts";
import { NodeId } from "../../identity/node-id.ts";
import { isExpired, type NodeRecord } from "../../identity/node-record.ts";
import { Logger } from "../../log/logger.ts";
import { MetricsRegistry } from "../../metrics/registry.ts";
import type { SocketAddress } from "../../platform/types.ts";
import { sleep } from "../../util/async.ts";
import { equals, toHex } from "../../util/bytes.ts";
import { Emitter } from "../../util/events.ts";
import { formatEndpoint, parseEndpoint } from "../endpoint.ts";
import { ENVELOPE_OVERHEAD, MAX_DATAGRAM, openEnvelope, sealEnvelope } from "../envelope.ts";
import { DatagramDropError, type DropReason } from "../errors.ts";
import type { ClusterKey } from "../hmac.ts";
import {
  type AliveToken,
  createAliveToken,
  decodeMessage,
  encodeMessage,
  type Message,
  type Update,
  verifyAliveToken,
} from "../messages.ts";
import { ClusterMetrics } from "../metrics.ts";
import { DEFAULT_TIMINGS, suspicionFloor, type SwimTimings } from "../options.ts";
import { ReplayGuard } from "../replay-guard.ts";
import { Broadcasts } from "./broadcasts.ts";
import { LocalHealth, StallDetector } from "./health.ts";
import { Prober, shuffle } from "./prober.ts";
import { type Member, Membership, type MemberState } from "./membership.ts";

/** A membership change. `up`/`down` are what applications usually want. */
export interface MembershipEvent {
  /** `up`: joined or came back; `down`: failed or left; `suspect`; `alive`: recovered from suspicion. */
  type: "up" | "down" | "suspect" | "alive";
  id: NodeId;
  state: MemberState;
  incarnation: number;
  /** ms since epoch. */
  at: number;
}

/** Events of the engine. */
export type SwimEvents = {
  change: [event: MembershipEvent];
  /** A member's (newer) signed node record arrived. */
  record: [record: NodeRecord, member: Member];
};

/** Options of `Swim`. */
export interface SwimOptions {
  keyPair: KeyPair;
  /** Cluster key (from the secret); without it datagrams carry no MAC and MAC'd ones are refused. */
  key?: ClusterKey;
  timings?: Partial<SwimTimings>;
  /** Send one datagram (fire and forget). */
  send(to: SocketAddress, bytes: Uint8Array): void;
  /** This node's SWIM endpoints (`host:port`). */
  endpoints(): string[];
  /** This node's current signed record. */
  record(): NodeRecord;
  /** Which of a member's endpoints to use (default: the first). */
  pickEndpoint?(addrs: string[]): string;
  log?: Logger;
  metrics?: ClusterMetrics;
}

/** Largest ack to a relayed ping, so the relay can wrap it in a forward-ack. */
const RELAYED_ACK_MAX = MAX_DATAGRAM - ENVELOPE_OVERHEAD - 40;
/** Broadcast urgent updates to every member up to this cluster size, else to a random fan-out. */
const URGENT_ALL_MAX = 32;
/** Most members (any state) remembered; announcements of further new nodes are dropped (`limit`). */
export const MAX_MEMBERS = 1024;

/**
 * The membership engine of one node.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../../identity/ed25519.ts";
 * import { createNodeRecord } from "../../identity/node-record.ts";
 * import { Swim } from "./swim.ts";
 * const kp = KeyPair.generate();
 * const swim = new Swim({
 *   keyPair: kp,
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
  readonly #log: Logger;
  #incarnation = 0;
  #token: AliveToken;
  #verified = new Set<string>();
  #lastContact = new Map<string, number>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #abort = new AbortController();
  #running = false;
  #leaving = false;

  constructor(options: SwimOptions) {
    this.#o = options;
    this.id = new NodeId(options.keyPair.publicKey);
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.#log = options.log ?? Logger.silent();
    this.metrics = options.metrics ?? new ClusterMetrics(new MetricsRegistry());
    this.#guard = new ReplayGuard({ maxSkew: this.timings.maxClockSkew });
    this.#broadcasts = new Broadcasts(this.timings.retransmitMult);
    this.health = new LocalHealth(this.timings.maxLocalHealth);
    this.#token = createAliveToken(options.keyPair, 0, options.endpoints());
    this.members = new Membership({
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
    this.#prober = new Prober({
      self: this.id,
      timings: this.timings,
      members: this.members,
      health: this.health,
      stall: this.#stall,
      metrics: this.metrics,
      send: (to, msg) => this.#sendTo(to, msg),
      open: (raw) => this.#open(raw),
      mismatch: () => this.#drop("mismatch", 0),
      failed: (m) => this.#suspectLocally(m),
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
    this.#timers.push(setInterval(() => this.#gossipRound(), this.timings.gossipInterval));
    this.#timers.push(setInterval(() => this.members.sweep(this.timings.deadRetention), 1_000));
  }

  /** Leave gracefully (tell every member) and stop. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#leaving = true;
    const left: Update = { kind: "dead", id: this.id, incarnation: this.#incarnation, by: this.id };
    for (let round = 0; round < 2; round++) {
      for (const m of this.members.live()) this.#sendTo(m.addr, { type: "gossip", updates: [left] });
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
    const bytes = this.#seal({ type: "announce", record: this.#o.record(), token: this.#token, reply });
    if (bytes.length <= MAX_DATAGRAM) return bytes;
    this.#log.warn("node record too large for a cluster announcement", { bytes: bytes.length });
    return null;
  }

  /** Ask the node at `to` for its announcement (and give it ours). Rate-limited per address. */
  contact(to: SocketAddress): void {
    const key = `addr:${formatEndpoint(to)}`;
    if (!this.#rateOk(key, 1_000)) return;
    const bytes = this.announcement(true);
    if (bytes) this.#emit(to, "announce", bytes);
  }

  /**
   * Handle one datagram from `from` (omit `from` for announcements that came
   * over a stream; `multicast` for those received on a group). Returns false
   * if it was dropped (or is our own).
   */
  receive(bytes: Uint8Array, from?: SocketAddress, options: { multicast?: boolean } = {}): boolean {
    if (!this.#running) return false;
    if (bytes.length >= 37 && equals(bytes.subarray(5, 37), this.id.bytes)) return false; // our own, looped back
    const opened = this.#open(bytes);
    if (!opened) return false;
    const { sender, msg } = opened;
    this.metrics.received(msg.type, bytes.length);
    if (msg.type === "announce") return this.#onAnnounce(sender, msg, from, options.multicast ?? false);
    this.#applyUpdates(msg.updates, from);
    if (from) this.#noteSender(sender, from);
    switch (msg.type) {
      case "ping":
        if (msg.target.equals(this.id) && from) {
          const max = msg.relayed ? RELAYED_ACK_MAX : MAX_DATAGRAM;
          this.#sendTo(from, { type: "ack", nonce: msg.nonce, updates: [] }, max);
        }
        break;
      case "ack":
        this.#prober.onAck(sender, msg.nonce, bytes);
        break;
      case "ping-req":
        if (from) this.#prober.onPingReq(msg.nonce, msg.target, msg.addr, from);
        break;
      case "forward-ack":
        this.#prober.onForwardAck(msg.nonce, msg.inner);
        break;
      case "nack":
        this.#prober.onNack(msg.nonce);
        break;
    }
    return true;
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
      this.#urgent(update, [m, ...others]);
    }
  }

  #drop(reason: DropReason, bytes: number, error?: unknown): void {
    this.metrics.drop(reason, bytes);
    this.#log.debug("dropped cluster datagram", { reason, error: (error as Error)?.message });
  }

  #rateOk(key: string, gap: number): boolean {
    const now = Date.now();
    if (now - (this.#lastContact.get(key) ?? 0) < gap) return false;
    this.#lastContact.set(key, now);
    if (this.#lastContact.size > 4096) this.#lastContact.delete(this.#lastContact.keys().next().value!);
    return true;
  }

  #verifyToken(token: AliveToken): boolean {
    const key = toHex(token.sig);
    if (this.#verified.has(key)) return true;
    if (!verifyAliveToken(token)) return false;
    this.#verified.add(key);
    if (this.#verified.size > 2048) this.#verified.delete(this.#verified.values().next().value!);
    return true;
  }

  #pick(addrs: string[]): string {
    return this.#o.pickEndpoint?.(addrs) ?? addrs[0];
  }

  /**
   * Every authenticated datagram is evidence about its sender. Unknown: ask
   * who it is. Dead, left, suspected by us, or announcing an incarnation
   * below ours (it restarted): tell it, so it refutes with a higher
   * incarnation — a suspicion whose gossip it missed would otherwise run out.
   */
  #noteSender(sender: NodeId, from: SocketAddress, incarnation?: number): void {
    const m = this.members.get(sender);
    if (!m) return this.contact(from);
    const dead = m.state === "dead" || m.state === "left";
    const behind = incarnation !== undefined && incarnation < m.incarnation;
    if (!dead && !behind && m.state !== "suspect") return;
    if (!this.#rateOk(`correct:${sender.hex}`, 500)) return;
    const claim: Update = { kind: dead ? "dead" : "suspect", id: m.id, incarnation: m.incarnation, by: this.id };
    this.#sendTo(from, { type: "gossip", updates: [claim] });
  }

  #onAnnounce(
    sender: NodeId,
    msg: Extract<Message, { type: "announce" }>,
    from: SocketAddress | undefined,
    multicast: boolean,
  ): boolean {
    const { record, token } = msg;
    if (!record.id.equals(sender) || !token.id.equals(sender) || isExpired(record) || token.addrs.length === 0) {
      this.#drop("mismatch", 0);
      return false;
    }
    if (!this.#verifyToken(token)) {
      this.#drop("bad_signature", 0);
      return false;
    }
    const src = from ? formatEndpoint(from) : "";
    const addr = token.addrs.includes(src) ? src : this.#pick(token.addrs);
    const before = this.members.get(sender);
    if (!before && this.members.size >= MAX_MEMBERS) {
      this.#drop("limit", 0);
      return false;
    }
    const wasLive = before?.state === "alive" || before?.state === "suspect";
    this.#acceptAlive(token, addr);
    const m = this.members.get(sender)!;
    this.#noteSender(sender, parseEndpoint(addr)!, token.incarnation);
    if (m.state === "dead" || m.state === "left") return true;
    if (!m.record || record.seq > m.record.seq) {
      m.record = record;
      this.events.emit("record", record, m);
    }
    // Answer when asked, or when a newcomer multicast its announcement without asking (it may not know us).
    // A unicast announcement that did not ask is itself an answer: the sender knows us already.
    if ((msg.reply || (!wasLive && multicast)) && this.#rateOk(`reply:${sender.hex}`, 1_000)) {
      const bytes = this.announcement(false);
      if (bytes) this.#emit(parseEndpoint(addr)!, "announce", bytes);
    }
    return true;
  }

  #acceptAlive(token: AliveToken, addr: string): boolean {
    const accepted = this.members.alive(token, addr);
    if (accepted) this.#broadcasts.add({ kind: "alive", token });
    return accepted;
  }

  /** Apply piggybacked updates; `from` is told directly if we refute something it said about us. */
  #applyUpdates(updates: Update[], from?: SocketAddress): void {
    for (const u of updates) {
      if (u.kind === "alive") {
        const t = u.token;
        if (t.id.equals(this.id)) {
          if (t.incarnation > this.#incarnation && this.#verifyToken(t)) this.#bump(t.incarnation);
          continue;
        }
        if (t.addrs.length === 0 || !this.#verifyToken(t)) {
          this.#drop("bad_signature", 0);
          continue;
        }
        const known = this.members.get(t.id);
        if (!known) {
          // Admit only members we hear from directly: ask it for its announcement. A member that is
          // unreachable from here (another LAN behind a dual-homed node) never answers and never joins.
          this.contact(parseEndpoint(this.#pick(t.addrs))!);
          continue;
        }
        this.#acceptAlive(t, t.addrs.includes(known.addr) ? known.addr : this.#pick(t.addrs));
      } else if (u.id.equals(this.id)) {
        if (this.#leaving) continue;
        if (u.incarnation >= this.#incarnation) {
          this.#log.info("refuting a suspicion of this node", { state: u.kind, by: u.by.short });
          this.health.apply(1);
          this.#bump(u.incarnation, from);
        } else if (from && this.#rateOk(`stale:${formatEndpoint(from)}`, 500)) {
          // The sender holds an outdated view of us (it missed our refutation): give it our token.
          this.#sendTo(from, { type: "gossip", updates: [{ kind: "alive", token: this.#token }] });
        }
      } else if (u.kind === "suspect") {
        if (this.members.suspect(u.id, u.incarnation, u.by) !== "ignored") this.#broadcasts.add(u);
      } else if (this.members.dead(u.id, u.incarnation, u.by)) {
        this.#broadcasts.add(u);
      }
    }
  }

  /** Raise our incarnation above `above` and tell everyone (and `also`, who doubted us) we are alive. */
  #bump(above: number, also?: SocketAddress): void {
    this.#incarnation = Math.max(this.#incarnation, above) + 1;
    this.#token = createAliveToken(this.#o.keyPair, this.#incarnation, this.#o.endpoints());
    const update: Update = { kind: "alive", token: this.#token };
    this.#broadcasts.add(update);
    this.#urgent(update, this.members.live());
    if (also) this.#sendTo(also, { type: "gossip", updates: [update] });
  }

  /** Send `update` now to `targets` (all of them in small clusters, else a random fan-out). */
  #urgent(update: Update, targets: Member[]): void {
    const chosen = targets.length <= URGENT_ALL_MAX
      ? targets
      : shuffle([...targets]).slice(0, this.timings.gossipFanout);
    for (const m of chosen) this.#sendTo(m.addr, { type: "gossip", updates: [update] });
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
    this.events.emit("change", { type, id: m.id, state: to, incarnation: m.incarnation, at: Date.now() });
  }

  #suspicionTimeout(m: Member): void {
    if (!this.#running || m.state !== "suspect") return m.suspicion?.cancel();
    const late = Date.now() - (m.suspicion?.deadline ?? Date.now());
    if (late > 250 && !m.suspicion?.deferred) {
      // We were frozen when the deadline passed: refutations may be waiting in the socket buffer.
      // Give them a moment (once, so that a node that is merely slow still reaches a verdict).
      return m.suspicion?.defer(1_000);
    }
    if (this.members.dead(m.id, m.incarnation, this.id)) {
      const update: Update = { kind: "dead", id: m.id, incarnation: m.incarnation, by: this.id };
      this.#broadcasts.add(update);
      this.#urgent(update, this.members.live());
    }
  }

  // --- sending ---

  #gossipRound(): void {
    if (this.#broadcasts.size === 0) return;
    const targets = shuffle(this.members.live()).slice(0, this.timings.gossipFanout);
    for (const m of targets) this.#sendTo(m.addr, { type: "gossip", updates: [] });
  }

  #seal(msg: Message): Uint8Array {
    return sealEnvelope(this.#o.keyPair, encodeMessage(msg), { key: this.#o.key });
  }

  /** Build (with piggybacked updates up to `maxSize`), seal and send a message. */
  #sendTo(to: SocketAddress | string, msg: Message, maxSize = MAX_DATAGRAM): void {
    const addr = typeof to === "string" ? parseEndpoint(to) : to;
    if (!addr || !this.#running) return;
    if ("updates" in msg) {
      const base = encodeMessage(msg).length + ENVELOPE_OVERHEAD + 3;
      const extra = this.#broadcasts.take(maxSize - base, this.members.live().length + 1);
      msg = { ...msg, updates: [...msg.updates, ...extra] };
    }
    this.#emit(addr, msg.type, this.#seal(msg));
  }

  #emit(to: SocketAddress, type: string, bytes: Uint8Array): void {
    this.metrics.sent(type, bytes.length);
    try {
      this.#o.send(to, bytes);
    } catch (error) {
      this.#log.debug("cluster send failed", { to: formatEndpoint(to), error: (error as Error).message });
    }
  }
}
