/**
 * The muxer's stream table: the open streams by id, the allocation of our
 * stream ids, and the validation of the ids the peer opens.
 *
 * Each side opens streams with strictly increasing ids of its own parity
 * (odd for the initiator, even for the responder), so a SYN for an id at or
 * below the last one seen is a duplicate, and an id of either side below its
 * high-water mark that is no longer in the table belonged to a stream that
 * has ended (or was refused).
 *
 * @module
 */
import { WireError } from "../../wire/errors.ts";
import { MUX_FRAME } from "./frame.ts";
import type { MuxStream } from "./mux-stream.ts";

const U32_MAX = 0xffff_ffff;

/**
 * Open streams by id, plus the id bookkeeping of both sides.
 *
 * @example
 * ```ts
 * import { StreamTable } from "./stream-table.ts";
 * const table = new StreamTable(true, 1024);
 * table.nextOutboundId(); // 1
 * table.nextOutboundId(); // 3
 * table.admitInbound(2); // true: the peer may open stream 2
 * table.isRetired(1); // true: used, and not (or no longer) in the table
 * ```
 */
export class StreamTable {
  readonly #streams = new Map<number, MuxStream>();
  readonly #initiator: boolean;
  readonly #maxStreams: number;
  #inbound = 0;
  #nextId: number;
  #lastInboundId = 0;

  /** A table for the `initiator` side (odd ids) or the responder (even ids). */
  constructor(initiator: boolean, maxStreams: number) {
    this.#initiator = initiator;
    this.#maxStreams = maxStreams;
    this.#nextId = initiator ? 1 : 2;
  }

  /** Streams in the table, in either direction. */
  get size(): number {
    return this.#streams.size;
  }

  /** The open stream with `id`, if any. */
  get(id: number): MuxStream | undefined {
    return this.#streams.get(id);
  }

  /** Take the id of our next stream; `null` once ids are exhausted. */
  nextOutboundId(): number | null {
    if (this.#nextId > U32_MAX) return null;
    const id = this.#nextId;
    this.#nextId += 2;
    return id;
  }

  /**
   * The peer sent a SYN for `id`: throw `WireError` if the id has our
   * parity or is not above the last one the peer opened; otherwise record
   * it and return whether another inbound stream fits (`false`: refuse it).
   */
  admitInbound(id: number): boolean {
    if ((id & 1) === (this.#initiator ? 1 : 0)) {
      throw new WireError(
        "E_WIRE_INVALID",
        MUX_FRAME,
        `peer opened stream ${id} with our id parity`,
      );
    }
    if (id <= this.#lastInboundId) {
      throw new WireError(
        "E_WIRE_INVALID",
        MUX_FRAME,
        `duplicate SYN for stream ${id}`,
      );
    }
    this.#lastInboundId = id;
    return this.#inbound < this.#maxStreams;
  }

  /** Put a new stream in the table (counted against the limit if inbound). */
  add(stream: MuxStream): void {
    this.#streams.set(stream.id, stream);
    if (stream.inbound) this.#inbound++;
  }

  /** Was `id` used by a stream that has since ended (or was refused)? */
  isRetired(id: number): boolean {
    const ours = (id & 1) === (this.#initiator ? 1 : 0);
    return ours ? id < this.#nextId : id <= this.#lastInboundId;
  }

  /** Remove `stream` if it is the one in the table under its id. */
  release(stream: MuxStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    if (stream.inbound) this.#inbound--;
  }

  /** Empty the table and return the streams it held. */
  clear(): MuxStream[] {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#inbound = 0;
    return streams;
  }
}
