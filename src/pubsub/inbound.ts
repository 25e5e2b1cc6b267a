/**
 * The receiving side of pub/sub: reads frames from peers' streams, records
 * neighbours' subscription announcements, authenticates forwarded messages
 * (origin signature), forwards to the nodes a message lists, and drops
 * duplicates and out-of-order copies per publisher session (`SequenceGuard`)
 * before local delivery. A forwarded message keeps the bytes it arrived
 * with: its pairs are spliced with the next forward list, and the signature
 * is checked over the received value bytes (`message-codec.ts`).
 *
 * @module
 */
import { verifyDomain } from "../identity/domain-signature.ts";
import { type NodeId, nodeIdFromWire } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import type { ServiceHost } from "../node/service.ts";
import type { Stream } from "../transport/connection.ts";
import { toHex } from "../util/bytes.ts";
import { WireError } from "../wire/errors.ts";
import { messageDecoder } from "../wire/schema.ts";
import { Acknowledger } from "./acks.ts";
import { SequenceGuard } from "./dedup.ts";
import type { SubscriberDirectory } from "./directory.ts";
import type { EncodedMessage } from "./message-codec.ts";
import { scanMessage } from "./message-scan.ts";
import { MESSAGE_DOMAIN, messageSignedBytes, type PubSubFrame, validatePubSubFrame } from "./messages.ts";
import type { Outbound } from "./outbound.ts";
import type { PubSubMessage } from "./subscription.ts";
import { validatePattern, validateTopic } from "./topic.ts";

const decodeFrame = messageDecoder("pubsub frame", validatePubSubFrame);

/** Options of `Inbound`. */
export interface InboundOptions {
  /** This node (its id: forwarding lists may include it). */
  node: ServiceHost;
  /** Largest encoded payload, bytes. */
  maxPayload: number;
  /** Where neighbours' subscriptions are recorded. */
  directory: SubscriberDirectory;
  /** Where forwarded copies go. */
  outbound: Outbound;
  /** Counts messages dropped, by reason. */
  dropped: Counter;
  /** Whether this node runs in `realm` (nothing crosses realms). */
  inRealm(realm: string): boolean;
  /** Deliver `message`, handed over by `via`, to the local subscriptions. */
  deliver(message: PubSubMessage, via: NodeId): void;
}

/**
 * Handles the frames peers send to one pub/sub service.
 *
 * @example
 * ```ts
 * import { Inbound } from "./inbound.ts";
 * import { PUBSUB_PROTOCOL } from "./messages.ts";
 * declare const options: import("./inbound.ts").InboundOptions;
 * const inbound = new Inbound(options);
 * options.node.handle(PUBSUB_PROTOCOL, (stream) => inbound.serve(stream));
 * ```
 */
export class Inbound {
  readonly #o: InboundOptions;
  readonly #origins = new Map<string, NodeId>();
  readonly #guard = new SequenceGuard();

  /** A handler that forwards through `options.outbound` and delivers with `options.deliver`. */
  constructor(options: InboundOptions) {
    this.#o = options;
  }

  /**
   * Read and handle every frame of an inbound pub/sub stream, acknowledging
   * each once handled, then close our side.
   */
  async serve(stream: Stream): Promise<void> {
    const acks = new Acknowledger(stream);
    try {
      while (true) {
        const frame = await stream.readFrame(this.#o.maxPayload + 64 * 1024, "pubsub frame");
        if (frame === null) break;
        this.receive(stream.remoteId, decodeFrame(frame), frame);
        acks.handled();
      }
      await acks.flush();
    } finally {
      acks.stop();
    }
    await stream.closeWrite();
  }

  /**
   * Handle one decoded frame from `from` (`raw`: the bytes it was decoded
   * from, forwarded as they are); throws `WireError` for an invalid message.
   */
  receive(from: NodeId, frame: PubSubFrame, raw?: Uint8Array): void {
    if (!this.#o.inRealm(frame.r)) return; // not our realm: nothing crosses realms
    if (frame.t === "subs") {
      const patterns = (frame.p ?? []).filter((p) => {
        try {
          return validatePattern(p) === p;
        } catch {
          return false;
        }
      });
      this.#o.directory.setNeighbour(from, frame.r, patterns);
      return;
    }
    if (!frame.o || frame.e === undefined || frame.s === undefined || !frame.tp) {
      throw new WireError("E_WIRE_INVALID", "pubsub frame", "message without origin, epoch, sequence or topic");
    }
    const origin = this.#origin(frame.o);
    let encoded: EncodedMessage | undefined;
    const message = () => encoded ??= this.#encoded(frame, raw);
    if (!origin.equals(from)) {
      // Forwarded: only the origin's signature makes it authentic. It covers the
      // values as encoded; a sender whose encoding differs from ours gets the check
      // over our own encoding of the decoded values.
      if (
        !frame.g || (!verifyDomain(frame.o, MESSAGE_DOMAIN, message().signedBytes(), frame.g) &&
          !verifyDomain(
            frame.o,
            MESSAGE_DOMAIN,
            messageSignedBytes(frame.r, frame.o, frame.e, frame.s, frame.tp, frame.d),
            frame.g,
          ))
      ) {
        throw new WireError("E_WIRE_INVALID", "pubsub frame", "forwarded message without a valid origin signature");
      }
    }
    try {
      validateTopic(frame.tp);
    } catch (error) {
      throw new WireError("E_WIRE_INVALID", "pubsub frame", (error as Error).message);
    }
    if (frame.f && frame.f.length > 0) {
      this.#o.outbound.fanOut(
        message(),
        frame.f.map((b) => nodeIdFromWire(b, "pubsub frame")).filter((id) => !id.equals(this.#o.node.id)),
      );
    }
    if (!this.#guard.accept(origin.hex, frame.e, frame.s)) {
      this.#o.dropped.inc({ reason: "duplicate-or-late" });
      return;
    }
    this.#o.deliver({ realm: frame.r, topic: frame.tp, payload: frame.d, publisher: origin, seq: frame.s }, from);
  }

  /** The message's pairs without `f`: the received bytes, or (for an unusual layout) encoded anew. */
  #encoded(frame: PubSubFrame, raw: Uint8Array | undefined): EncodedMessage {
    let scanned: EncodedMessage | null = null;
    try {
      scanned = raw ? scanMessage(raw) : null;
    } catch {
      // The decoder is more lenient than the scanner (e.g. a stray break code): encode anew.
    }
    if (scanned) return scanned;
    const fields = { r: frame.r, o: frame.o!, e: frame.e!, s: frame.s!, tp: frame.tp!, d: frame.d };
    const encoded = this.#o.outbound.encodeMessage(fields);
    return frame.g ? encoded.withSignature(frame.g) : encoded;
  }

  #origin(bytes: Uint8Array): NodeId {
    const hex = toHex(bytes);
    let id = this.#origins.get(hex);
    if (!id) {
      if (this.#origins.size >= 4096) this.#origins.clear();
      this.#origins.set(hex, id = nodeIdFromWire(bytes, "pubsub frame"));
    }
    return id;
  }
}
