/**
 * Acknowledgements on a `/macula/pubsub/2` stream. The receiver writes back
 * `{ a: n }` frames: `n` frames more of the stream were handled (delivered
 * locally and forwarded). The sender counts a frame as sent only once it is
 * acknowledged, and writes again, on the next connection, whatever a dead
 * connection never acknowledged.
 *
 * @module
 */
import type { Stream } from "../transport/connection.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { messageDecoder, object, uint } from "../wire/schema.ts";

const MAX_ACK = 32;
/** Most frames one acknowledgement may cover (far above any batch). */
const MAX_ACKED = 1 << 20;
const decodeAck = messageDecoder("pubsub ack", object({ a: uint({ max: MAX_ACKED }) }));

/**
 * Read `stream`'s acknowledgements until it ends, telling `onAck` each
 * count. A malformed one is a protocol violation (the connection closes).
 * Resolves when the stream ends or fails.
 */
export async function readAcks(stream: Stream, onAck: (frames: number) => void): Promise<void> {
  try {
    while (true) {
      const frame = await stream.readFrame(MAX_ACK, "pubsub ack");
      if (frame === null) return;
      onAck(decodeAck(frame).a);
    }
  } catch (error) {
    if (error instanceof WireError) stream.connection.protocolViolation(error);
  }
}

/**
 * The receiving side's acknowledger of one stream: `handled()` after each
 * frame; acknowledgements go out at most every `delay` ms (a few bytes),
 * and `flush()` sends what is left (before the receiver closes its side).
 */
export class Acknowledger {
  #stream: Stream;
  #delay: number;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tail: Promise<void> = Promise.resolve();

  /** Acknowledge on `stream`, batching for `delay` ms (default 5). */
  constructor(stream: Stream, delay = 5) {
    this.#stream = stream;
    this.#delay = delay;
  }

  /** One more frame was handled. */
  handled(): void {
    this.#pending++;
    this.#timer ??= setTimeout(() => this.flush(), this.#delay);
  }

  /** Send the acknowledgement now; resolves once written (never rejects). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const n = this.#pending;
    this.#pending = 0;
    if (n > 0) {
      this.#tail = this.#tail.then(() => this.#stream.writeFrame(encodeCbor({ a: n }), MAX_ACK)).catch(() => {});
    }
    return this.#tail;
  }

  /** Stop (the stream is gone). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
