/**
 * The receiving side of the SWIM engine: dispatches authenticated
 * datagrams (pings answered, probe replies handed to the prober), admits
 * members from their signed announcements, applies piggybacked membership
 * updates (refuting suspicions of this node), and corrects senders that
 * hold an outdated view.
 *
 * Alive tokens are verified once and remembered by a hash of exactly the
 * bytes their signature covers (id, incarnation, endpoints) plus the
 * signature, so reusing a signature with other fields fails like any
 * forgery. Incarnations move only in bounded steps (`membership.ts`).
 * Nothing here reads a clock: a node record's `expires` is checked against
 * its own `seq` (the sender's clock), never against ours.
 *
 * @module
 */
import { sha256 } from "../../crypto/mod.ts";
import type { NodeId } from "../../identity/node-id.ts";
import type { NodeRecord } from "../../identity/node-record.ts";
import type { Logger } from "../../log/logger.ts";
import type { SocketAddress } from "../../platform/types.ts";
import { equals, toHex } from "../../util/bytes.ts";
import type { Emitter } from "../../util/events.ts";
import { formatEndpoint, parseEndpoint } from "../endpoint.ts";
import { ENVELOPE_OVERHEAD, MAX_DATAGRAM } from "../envelope.ts";
import type { DropReason } from "../errors.ts";
import { type AliveToken, aliveTokenKey, type Message, type Update, verifyAliveToken } from "../messages.ts";
import type { ClusterMetrics } from "../metrics.ts";
import type { Broadcasts } from "./broadcasts.ts";
import type { LocalHealth } from "./health.ts";
import { incarnationInBounds, MAX_CLAIM_STEP, type Membership } from "./membership.ts";
import type { Outbox } from "./outbox.ts";
import type { Prober } from "./prober.ts";
import type { SwimEvents } from "./types.ts";

/** Largest ack to a relayed ping, so the relay can wrap it in a forward-ack. */
const RELAYED_ACK_MAX = MAX_DATAGRAM - ENVELOPE_OVERHEAD - 40;
/** Most members (any state) remembered; announcements of further new nodes are dropped (`limit`). */
export const MAX_MEMBERS = 1024;
/** Verified alive tokens remembered (so gossip does not re-verify the same token). */
const VERIFIED_CACHE = 2048;

/**
 * Whether a node record is usable by its own account: it must not expire
 * before it was issued. Both fields come from the sender's clock, so this
 * holds whatever our clock (or the offset between the two) says.
 */
export function recordSelfConsistent(record: NodeRecord): boolean {
  return record.expires > record.seq;
}

/** What the receiver needs from the engine. */
export interface ReceiverHost {
  /** This node's id. */
  readonly self: NodeId;
  /** The members, updated from announcements and piggybacked updates. */
  readonly members: Membership;
  /** Pending updates to piggyback (accepted updates are passed on). */
  readonly broadcasts: Broadcasts;
  /** Local health (a refuted suspicion of this node counts against it). */
  readonly health: LocalHealth;
  /** Gets the probe replies (ack, ping-req, forward-ack, nack). */
  readonly prober: Prober;
  /** Counts datagrams received, by type. */
  readonly metrics: ClusterMetrics;
  /** Where newer member records are emitted. */
  readonly events: Emitter<SwimEvents>;
  /** Logger of the engine. */
  readonly log: Logger;
  /** Where answers and corrections are sent. */
  readonly outbox: Outbox;
  /** Whether the engine runs (datagrams are ignored otherwise). */
  running(): boolean;
  /** Whether this node is leaving (suspicions of it are no longer refuted). */
  leaving(): boolean;
  /** Our incarnation number. */
  incarnation(): number;
  /** Our current alive token. */
  token(): AliveToken;
  /** Raise our incarnation above `above` and tell everyone (and `also`) we are alive. */
  bump(above: number, also?: SocketAddress): void;
  /** Ask the node at `to` for its announcement (rate-limited). */
  contact(to: SocketAddress): void;
  /** Our sealed announcement, or null if it does not fit a datagram. */
  announcement(reply: boolean): Uint8Array | null;
  /** Authenticate and decode a datagram; null if it was dropped (and counted). */
  open(bytes: Uint8Array): { sender: NodeId; msg: Message } | null;
  /** Count (and log) a dropped datagram. */
  drop(reason: DropReason, bytes: number, error?: unknown): void;
  /** Whether an action keyed `key` may happen now (at most once per `gap` ms). */
  rateOk(key: string, gap: number): boolean;
  /** Which of a member's endpoints to use. */
  pick(addrs: string[]): string;
}

/**
 * Handles the datagrams that reach one SWIM engine.
 *
 * @example
 * ```ts
 * import { Receiver } from "./receiver.ts";
 * declare const host: import("./receiver.ts").ReceiverHost;
 * declare const datagram: Uint8Array;
 * const receiver = new Receiver(host);
 * receiver.receive(datagram, { hostname: "10.0.0.7", port: 40123 });
 * ```
 */
export class Receiver {
  readonly #h: ReceiverHost;
  #verified = new Set<string>();

  /** A receiver for the engine `host`. */
  constructor(host: ReceiverHost) {
    this.#h = host;
  }

  /**
   * Handle one datagram from `from` (omit `from` for announcements that came
   * over a stream; `multicast` for those received on a group). Returns false
   * if it was dropped (or is our own).
   */
  receive(bytes: Uint8Array, from?: SocketAddress, options: { multicast?: boolean } = {}): boolean {
    const h = this.#h;
    if (!h.running()) return false;
    if (bytes.length >= 37 && equals(bytes.subarray(5, 37), h.self.bytes)) return false; // our own, looped back
    const opened = h.open(bytes);
    if (!opened) return false;
    const { sender, msg } = opened;
    h.metrics.received(msg.type, bytes.length);
    if (msg.type === "announce") return this.#onAnnounce(sender, msg, from, options.multicast ?? false);
    this.#applyUpdates(msg.updates, from);
    if (from) this.#noteSender(sender, from);
    switch (msg.type) {
      case "ping":
        if (msg.target.equals(h.self) && from) {
          const max = msg.relayed ? RELAYED_ACK_MAX : MAX_DATAGRAM;
          h.outbox.sendTo(from, { type: "ack", nonce: msg.nonce, updates: [] }, max);
        }
        break;
      case "ack":
        h.prober.onAck(sender, msg.nonce, bytes);
        break;
      case "ping-req":
        if (from) h.prober.onPingReq(msg.nonce, msg.target, msg.addr, from);
        break;
      case "forward-ack":
        h.prober.onForwardAck(msg.nonce, msg.inner);
        break;
      case "nack":
        h.prober.onNack(msg.nonce);
        break;
    }
    return true;
  }

  #verifyToken(token: AliveToken): boolean {
    const key = toHex(sha256(aliveTokenKey(token)));
    if (this.#verified.has(key)) return true;
    if (!verifyAliveToken(token)) return false;
    this.#verified.add(key);
    if (this.#verified.size > VERIFIED_CACHE) this.#verified.delete(this.#verified.values().next().value!);
    return true;
  }

  /**
   * Every authenticated datagram is evidence about its sender. Unknown: ask
   * who it is. Dead, left, suspected by us, or announcing an incarnation
   * below ours (it restarted): tell it, so it refutes with a higher
   * incarnation — a suspicion whose gossip it missed would otherwise run out.
   */
  #noteSender(sender: NodeId, from: SocketAddress, incarnation?: number): void {
    const h = this.#h;
    const m = h.members.get(sender);
    if (!m) return h.contact(from);
    const dead = m.state === "dead" || m.state === "left";
    const behind = incarnation !== undefined && incarnation < m.incarnation;
    if (!dead && !behind && m.state !== "suspect") return;
    if (!h.rateOk(`correct:${sender.hex}`, 500)) return;
    const claim: Update = { kind: dead ? "dead" : "suspect", id: m.id, incarnation: m.incarnation, by: h.self };
    // Its own latest token we hold comes first: signed by it, it proves the incarnation it must exceed
    // (after a restart it starts at 0), so it need not believe an unsigned claim far above its own.
    h.outbox.sendTo(from, { type: "gossip", updates: [{ kind: "alive", token: m.token }, claim] });
  }

  #onAnnounce(
    sender: NodeId,
    msg: Extract<Message, { type: "announce" }>,
    from: SocketAddress | undefined,
    multicast: boolean,
  ): boolean {
    const h = this.#h;
    const { record, token } = msg;
    if (
      !record.id.equals(sender) || !token.id.equals(sender) || !recordSelfConsistent(record) ||
      token.addrs.length === 0
    ) {
      h.drop("mismatch", 0);
      return false;
    }
    if (!this.#verifyToken(token)) {
      h.drop("bad_signature", 0);
      return false;
    }
    const src = from ? formatEndpoint(from) : "";
    const addr = token.addrs.includes(src) ? src : h.pick(token.addrs);
    const before = h.members.get(sender);
    if (!before && h.members.size >= MAX_MEMBERS) {
      h.drop("limit", 0);
      return false;
    }
    const wasLive = before?.state === "alive" || before?.state === "suspect";
    if (before && !incarnationInBounds(before.incarnation, token.incarnation, "alive")) {
      h.drop("mismatch", 0);
      return false;
    }
    this.#acceptAlive(token, addr);
    const m = h.members.get(sender)!;
    this.#noteSender(sender, parseEndpoint(addr)!, token.incarnation);
    if (m.state === "dead" || m.state === "left") return true;
    if (!m.record || record.seq > m.record.seq) {
      m.record = record;
      h.events.emit("record", record, m);
    }
    // Answer when asked, or when a newcomer multicast its announcement without asking (it may not know us).
    // A unicast announcement that did not ask is itself an answer: the sender knows us already.
    if ((msg.reply || (!wasLive && multicast)) && h.rateOk(`reply:${sender.hex}`, 1_000)) {
      const bytes = h.announcement(false);
      if (bytes) h.outbox.emit(parseEndpoint(addr)!, "announce", bytes);
    }
    return true;
  }

  #acceptAlive(token: AliveToken, addr: string): boolean {
    const accepted = this.#h.members.alive(token, addr);
    if (accepted) this.#h.broadcasts.add({ kind: "alive", token });
    return accepted;
  }

  /** Apply piggybacked updates; `from` is told directly if we refute something it said about us. */
  #applyUpdates(updates: Update[], from?: SocketAddress): void {
    const h = this.#h;
    for (const u of updates) {
      if (u.kind === "alive") {
        const t = u.token;
        if (t.id.equals(h.self)) {
          if (t.incarnation > h.incarnation() && this.#verifyToken(t)) h.bump(t.incarnation);
          continue;
        }
        if (t.addrs.length === 0 || !this.#verifyToken(t)) {
          h.drop("bad_signature", 0);
          continue;
        }
        const known = h.members.get(t.id);
        if (!known) {
          // Admit only members we hear from directly: ask it for its announcement. A member that is
          // unreachable from here (another LAN behind a dual-homed node) never answers and never joins.
          h.contact(parseEndpoint(h.pick(t.addrs))!);
          continue;
        }
        if (!incarnationInBounds(known.incarnation, t.incarnation, "alive")) {
          h.drop("mismatch", 0);
          continue;
        }
        this.#acceptAlive(t, t.addrs.includes(known.addr) ? known.addr : h.pick(t.addrs));
      } else if (u.id.equals(h.self)) {
        if (h.leaving()) continue;
        if (u.incarnation > h.incarnation() + MAX_CLAIM_STEP) {
          // No one saw a token of ours that high: a claim meant to push us to the end of the range.
          h.drop("mismatch", 0);
        } else if (u.incarnation >= h.incarnation()) {
          h.log.info("refuting a suspicion of this node", { state: u.kind, by: u.by.short });
          h.health.apply(1);
          h.bump(u.incarnation, from);
        } else if (from && h.rateOk(`stale:${formatEndpoint(from)}`, 500)) {
          // The sender holds an outdated view of us (it missed our refutation): give it our token.
          h.outbox.sendTo(from, { type: "gossip", updates: [{ kind: "alive", token: h.token() }] });
        }
      } else if (!incarnationInBounds(h.members.get(u.id)?.incarnation, u.incarnation, u.kind)) {
        h.drop("mismatch", 0);
      } else if (u.kind === "suspect") {
        if (h.members.suspect(u.id, u.incarnation, u.by) !== "ignored") h.broadcasts.add(u);
      } else if (h.members.dead(u.id, u.incarnation, u.by)) {
        h.broadcasts.add(u);
      }
    }
  }
}
