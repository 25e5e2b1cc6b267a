/**
 * The sending side of pub/sub: encodes message frames (`message-codec.ts`),
 * keeps one `PeerSender` per subscriber node, sends to subscriber nodes
 * directly or through forwarders (bounded fan-out: the message's bytes are
 * spliced with each forwarder's list, never re-encoded), and tells when
 * queued messages have gone out.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import { deferred } from "../util/async.ts";
import { type EncodedMessage, MessageEncoder, type MessageFields } from "./message-codec.ts";
import { type OutFrame, PeerSender, type SenderNode } from "./peer-sender.ts";

/** Options of `Outbound`. */
export interface OutboundOptions {
  /** The node whose connections carry the frames. */
  node: SenderNode;
  /** Subscriber nodes one node sends a message to directly. */
  maxFanout: number;
  /** Messages queued per subscriber node before the oldest are dropped. */
  queueSize: number;
  /** Counts message frames sent to peers (acknowledged by them), by route. */
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
 * declare const fields: import("./message-codec.ts").MessageFields;
 * declare const subscribers: import("../identity/node-id.ts").NodeId[];
 * const out = new Outbound(options);
 * out.sendDirect(subscribers, out.encodeMessage(fields).frame());
 * for (const s of subscribers) if (out.queue(s)?.congested) await out.queue(s)!.room(1_000);
 * out.closeAll();
 * ```
 */
export class Outbound {
  readonly #o: OutboundOptions;
  readonly #encoder = new MessageEncoder();
  readonly #senders = new Map<string, PeerSender>();
  /** Senders with something queued or being written. */
  readonly #active = new Set<PeerSender>();
  #idleWaiters: Array<() => void> = [];

  /** Outbound queues over the connections of `options.node`. */
  constructor(options: OutboundOptions) {
    this.#o = options;
  }

  /** Encode a message frame (`{ t: "msg", r, o, e, s, tp, d }`). */
  encodeMessage(fields: MessageFields): EncodedMessage {
    return this.#encoder.encode(fields);
  }

  /** Queue the same encoded message for every one of `targets`. */
  sendDirect(targets: NodeId[], bytes: Uint8Array): void {
    for (const t of targets) this.#send(t, bytes, "direct");
  }

  /**
   * Send a (signed) message to `targets`, directly or through forwarders
   * (bounded fan-out): each forwarder gets the same message bytes with the
   * list of nodes it forwards to.
   */
  fanOut(message: EncodedMessage, targets: NodeId[]): void {
    const fanout = this.#o.maxFanout;
    if (targets.length <= fanout) {
      this.sendDirect(targets, message.frame());
      return;
    }
    const sorted = [...targets].sort((a, b) => a.compare(b));
    const groupSize = Math.ceil(sorted.length / fanout);
    for (let i = 0; i < sorted.length; i += groupSize) {
      const [head, ...rest] = sorted.slice(i, i + groupSize);
      this.#send(head, message.frame(rest.map((r) => r.bytes)), "via-forwarder");
    }
  }

  /** Queue an encoded frame (e.g. a subscription announcement) for `peer`. */
  send(peer: NodeId, bytes: Uint8Array): void {
    this.#send(peer, bytes);
  }

  #send(peer: NodeId, bytes: Uint8Array, route?: OutFrame["route"]): void {
    const sender = this.#sender(peer);
    sender.send(bytes, route);
    if (!sender.idle) this.#active.add(sender);
  }

  /** The queue to `peer`, if there is one (e.g. to wait while it is congested). */
  queue(peer: NodeId): PeerSender | undefined {
    return this.#senders.get(peer.hex);
  }

  /** Whether some queue still holds messages not yet handed to its stream. */
  get busy(): boolean {
    return this.#active.size > 0;
  }

  /**
   * Resolves once no queue holds messages not yet handed to its stream, or
   * after `timeout` ms.
   */
  idle(timeout: number): Promise<void> {
    if (!this.busy) return Promise.resolve();
    const done = deferred<void>();
    const timer = setTimeout(() => {
      this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
      done.resolve();
    }, timeout);
    const wake = () => {
      clearTimeout(timer);
      done.resolve();
    };
    this.#idleWaiters.push(wake);
    return done.promise;
  }

  #onIdle(sender: PeerSender): void {
    if (!sender.idle) return;
    this.#active.delete(sender);
    if (this.#active.size > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** `peer` connected (again, perhaps after a restart): its queue, if any, sends again at once. */
  connected(peer: NodeId): void {
    this.#senders.get(peer.hex)?.reachable();
  }

  /**
   * `peer` disconnected. An idle queue is closed; one still holding frames
   * stays: it writes them on the next connection to the peer (a reconnect
   * or a restart) or, if none comes, counts them as dropped (`unreachable`).
   */
  disconnected(peer: NodeId): void {
    const sender = this.#senders.get(peer.hex);
    if (!sender?.idle) return;
    this.#senders.delete(peer.hex);
    sender.close();
  }

  /** Drain every queue (see `PeerSender.drain`), at most `timeout` ms, then close them all. */
  async drainAll(timeout: number): Promise<void> {
    const senders = [...this.#senders.values()];
    this.#senders.clear();
    await Promise.all(senders.map((s) => s.drain(timeout)));
  }

  /** Close every queue (what is left is counted as dropped, reason `closed`). */
  closeAll(): void {
    const senders = [...this.#senders.values()];
    this.#senders.clear();
    for (const s of senders) s.close();
  }

  #sender(peer: NodeId): PeerSender {
    const existing = this.#senders.get(peer.hex);
    if (existing) return existing;
    const sender: PeerSender = new PeerSender(this.#o.node, peer, {
      maxQueue: this.#o.queueSize,
      onDrop: (frames, reason) => {
        const messages = frames.filter((f) => f.route).length;
        if (messages > 0) this.#o.dropped.inc({ reason }, messages);
        if (reason === "unreachable") this.#o.onUnreachable(peer);
      },
      onSent: (frames) => {
        let direct = 0, forwarded = 0;
        for (const f of frames) f.route === "direct" ? direct++ : f.route === "via-forwarder" && forwarded++;
        if (direct > 0) this.#o.sent.inc({ route: "direct" }, direct);
        if (forwarded > 0) this.#o.sent.inc({ route: "via-forwarder" }, forwarded);
      },
      onIdle: () => this.#onIdle(sender),
    });
    this.#senders.set(peer.hex, sender);
    return sender;
  }
}
