/**
 * The sending side of pub/sub: encodes message frames (the per-realm
 * constant part once), keeps one `PeerSender` per subscriber node, sends
 * to subscriber nodes directly or through forwarders (bounded fan-out),
 * and tells whether queued messages are still waiting to go out.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import type { Dialer } from "../node/request-channel.ts";
import { encodeCbor } from "../wire/cbor.ts";
import type { PubSubFrame } from "./messages.ts";
import { PeerSender } from "./peer-sender.ts";

/** Options of `Outbound`. */
export interface OutboundOptions {
  /** The node whose connections carry the frames. */
  node: Dialer;
  /** Subscriber nodes one node sends a message to directly. */
  maxFanout: number;
  /** Messages queued per subscriber node before the oldest are dropped. */
  queueSize: number;
  /** Counts message frames sent to peers, by route. */
  sent: Counter;
  /** Counts messages dropped, by reason. */
  dropped: Counter;
  /** A peer could not be reached (its queue was dropped). */
  onUnreachable(peer: NodeId): void;
}

/**
 * Outbound queues and fan-out of one pub/sub service.
 *
 * @example
 * ```ts
 * import { Outbound } from "./outbound.ts";
 * declare const options: import("./outbound.ts").OutboundOptions;
 * declare const frame: import("./messages.ts").PubSubFrame;
 * declare const subscribers: import("../identity/node-id.ts").NodeId[];
 * const out = new Outbound(options);
 * out.sendDirect(subscribers, out.encodeMessage(frame));
 * for (const s of subscribers) if (out.queue(s)?.congested) await out.queue(s)!.room(1_000);
 * out.closeAll();
 * ```
 */
export class Outbound {
  readonly #o: OutboundOptions;
  readonly #prefixes = new Map<string, Uint8Array>();
  readonly #senders = new Map<string, PeerSender>();
  readonly #sentDirect: { inc(n?: number): void };

  /** Outbound queues over the connections of `options.node`. */
  constructor(options: OutboundOptions) {
    this.#o = options;
    this.#sentDirect = options.sent.with({ route: "direct" });
  }

  /**
   * Encode a message frame. The fields that never change for a realm (type,
   * realm, origin, epoch) are encoded once and spliced in front of the
   * per-message ones: the same CBOR map, less work on the hot path.
   */
  encodeMessage(frame: PubSubFrame): Uint8Array {
    let prefix = this.#prefixes.get(frame.r);
    if (!prefix) {
      const head = encodeCbor({ t: "msg", r: frame.r, o: frame.o, e: frame.e });
      prefix = head[0] === 0xa4 ? head.slice(1) : new Uint8Array(0);
      this.#prefixes.set(frame.r, prefix);
    }
    const tail = encodeCbor({ s: frame.s, tp: frame.tp, d: frame.d });
    if (prefix.length === 0 || tail[0] !== 0xa3) return encodeCbor(frame);
    const out = new Uint8Array(prefix.length + tail.length);
    out[0] = 0xa7; // a map of 4 + 3 pairs
    out.set(prefix, 1);
    out.set(tail.subarray(1), 1 + prefix.length);
    return out;
  }

  /** Queue the same encoded message for every one of `targets`. */
  sendDirect(targets: NodeId[], bytes: Uint8Array): void {
    for (const t of targets) this.#sender(t).send(bytes);
    this.#sentDirect.inc(targets.length);
  }

  /** Send `frame` to `targets`, directly or through forwarders (bounded fan-out). */
  fanOut(frame: PubSubFrame, targets: NodeId[]): void {
    const fanout = this.#o.maxFanout;
    if (targets.length <= fanout) {
      this.sendDirect(targets, encodeCbor({ ...frame, f: undefined }));
      return;
    }
    const sorted = [...targets].sort((a, b) => a.compare(b));
    const groupSize = Math.ceil(sorted.length / fanout);
    for (let i = 0; i < sorted.length; i += groupSize) {
      const [head, ...rest] = sorted.slice(i, i + groupSize);
      this.#sender(head).send(encodeCbor({ ...frame, f: rest.map((r) => r.bytes) }));
      this.#o.sent.inc({ route: "via-forwarder" });
    }
  }

  /** Queue an encoded frame (e.g. a subscription announcement) for `peer`. */
  send(peer: NodeId, bytes: Uint8Array): void {
    this.#sender(peer).send(bytes);
  }

  /** The queue to `peer`, if there is one (e.g. to wait while it is congested). */
  queue(peer: NodeId): PeerSender | undefined {
    return this.#senders.get(peer.hex);
  }

  /** Whether some queue still holds messages not yet handed to its stream. */
  get busy(): boolean {
    return [...this.#senders.values()].some((s) => !s.idle);
  }

  /** Close the queue of `peer` (it disconnected). */
  close(peer: NodeId): void {
    this.#senders.get(peer.hex)?.close();
    this.#senders.delete(peer.hex);
  }

  /** Close every queue. */
  closeAll(): void {
    for (const s of this.#senders.values()) s.close();
    this.#senders.clear();
  }

  #sender(peer: NodeId): PeerSender {
    let s = this.#senders.get(peer.hex);
    if (!s) {
      s = new PeerSender(this.#o.node, peer, {
        maxQueue: this.#o.queueSize,
        onDrop: (count, reason) => {
          this.#o.dropped.inc({ reason }, count);
          if (reason === "unreachable") this.#o.onUnreachable(peer);
        },
      });
      this.#senders.set(peer.hex, s);
    }
    return s;
  }
}
