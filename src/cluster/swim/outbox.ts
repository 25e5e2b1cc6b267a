/**
 * The sending side of the SWIM engine: seals messages, piggybacks pending
 * membership updates on every message up to the datagram size, sends
 * urgent updates at once (to everyone in small clusters, else a random
 * fan-out), runs the periodic gossip round, and counts what it sends.
 *
 * @module
 */
import type { Logger } from "../../log/logger.ts";
import type { SocketAddress } from "../../platform/types.ts";
import { formatEndpoint, parseEndpoint } from "../endpoint.ts";
import { ENVELOPE_OVERHEAD, MAX_DATAGRAM, sealEnvelope, Stamper } from "../envelope.ts";
import { encodeMessage, type Message, type Update } from "../messages.ts";
import type { ClusterMetrics } from "../metrics.ts";
import type { SwimTimings } from "../options.ts";
import type { Broadcasts } from "./broadcasts.ts";
import { shuffle } from "./prober.ts";
import type { Member, Membership } from "./membership.ts";
import type { SwimOptions } from "./types.ts";

/** Broadcast urgent updates to every member up to this cluster size, else to a random fan-out. */
const URGENT_ALL_MAX = 32;

/** The engine state the outbox reads. */
export interface OutboxEngine {
  /** The engine's timings (the gossip fan-out). */
  readonly timings: SwimTimings;
  /** The members (live ones are gossip targets). */
  readonly members: Membership;
  /** Pending updates to piggyback. */
  readonly broadcasts: Broadcasts;
  /** Counts datagrams sent, by type. */
  readonly metrics: ClusterMetrics;
  /** Where failed sends are logged. */
  readonly log: Logger;
  /** Whether the engine runs (nothing is sent otherwise). */
  running(): boolean;
}

/**
 * Seals and sends the datagrams of one SWIM engine.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * declare const options: import("./types.ts").SwimOptions;
 * declare const engine: import("./outbox.ts").OutboxEngine;
 * const outbox = new Outbox(options, engine);
 * outbox.sendTo("10.0.0.7:40123", { type: "gossip", updates: [] }); // with piggybacked updates
 * outbox.gossipRound();
 * ```
 */
export class Outbox {
  readonly #o: SwimOptions;
  readonly #e: OutboxEngine;
  /** This engine's boot epoch and datagram counter. */
  readonly #stamper = new Stamper();

  /** An outbox that seals with `options.signer` (and `options.key`) and sends with `options.send`. */
  constructor(options: SwimOptions, engine: OutboxEngine) {
    this.#o = options;
    this.#e = engine;
  }

  /** Seal `msg` as it is (no piggybacking). */
  seal(msg: Message): Uint8Array {
    return sealEnvelope(this.#o.signer, encodeMessage(msg), { key: this.#o.key, stamper: this.#stamper });
  }

  /** Build (with piggybacked updates up to `maxSize`), seal and send a message. */
  sendTo(to: SocketAddress | string, msg: Message, maxSize = MAX_DATAGRAM): void {
    const addr = typeof to === "string" ? parseEndpoint(to) : to;
    if (!addr || !this.#e.running()) return;
    if ("updates" in msg) {
      const base = encodeMessage(msg).length + ENVELOPE_OVERHEAD + 3;
      const extra = this.#e.broadcasts.take(maxSize - base, this.#e.members.live().length + 1);
      msg = { ...msg, updates: [...msg.updates, ...extra] };
    }
    this.emit(addr, msg.type, this.seal(msg));
  }

  /** Send sealed `bytes` (of message `type`, for the metrics); a failed send is logged, not thrown. */
  emit(to: SocketAddress, type: string, bytes: Uint8Array): void {
    this.#e.metrics.sent(type, bytes.length);
    try {
      this.#o.send(to, bytes);
    } catch (error) {
      this.#e.log.debug("cluster send failed", { to: formatEndpoint(to), error: (error as Error).message });
    }
  }

  /** Send `update` now to `targets` (all of them in small clusters, else a random fan-out). */
  urgent(update: Update, targets: Member[]): void {
    const chosen = targets.length <= URGENT_ALL_MAX
      ? targets
      : shuffle([...targets]).slice(0, this.#e.timings.gossipFanout);
    for (const m of chosen) this.sendTo(m.addr, { type: "gossip", updates: [update] });
  }

  /** One gossip round: pending updates go to a random fan-out of live members. */
  gossipRound(): void {
    if (this.#e.broadcasts.size === 0) return;
    const targets = shuffle(this.#e.members.live()).slice(0, this.#e.timings.gossipFanout);
    for (const m of targets) this.sendTo(m.addr, { type: "gossip", updates: [] });
  }
}
