/**
 * Length-prefixed frames: a 4-byte big-endian length, then the payload.
 * Readers enforce a hard maximum so a peer cannot make us buffer unbounded
 * data. This is the one implementation of that framing: streams
 * (`Stream.readFrame`/`writeFrame`), QUIC authentication and pub/sub's
 * batched writes all frame and unframe through it.
 *
 * @module
 */
import { Queue } from "../util/queue.ts";
import { WireError } from "./errors.ts";

/** Default hard limit of one frame's payload: 1 MiB. */
export const DEFAULT_MAX_FRAME = 1024 * 1024;
/** Absolute ceiling any reader may be configured with: 16 MiB. */
export const MAX_FRAME_CEILING = 16 * 1024 * 1024;

/** Anything we can pull byte chunks from; `null` means end of stream. */
export interface ByteSource {
  read(): Promise<Uint8Array | null>;
}

/** Anything we can push byte chunks to. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** A reliable, ordered byte duplex (a TCP socket, a Noise channel, …). */
export interface Duplex extends ByteSource, ByteSink {
  /** Close both directions; pending and later reads/writes end. Idempotent. */
  close(): void;
}

/** Bytes of a frame header (the big-endian payload length). */
export const FRAME_HEADER = 4;

/** Write the header of a `length`-byte frame at `offset` of `target`. */
export function putFrameHeader(target: Uint8Array, offset: number, length: number): void {
  target[offset] = length >>> 24;
  target[offset + 1] = (length >>> 16) & 0xff;
  target[offset + 2] = (length >>> 8) & 0xff;
  target[offset + 3] = length & 0xff;
}

/** The payload length a frame header at `offset` of `bytes` announces. */
export function frameLength(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** Prefix `payload` with its length. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + payload.length);
  putFrameHeader(out, 0, payload.length);
  out.set(payload, FRAME_HEADER);
  return out;
}

/**
 * Frame every one of `payloads` into one buffer (one write for a batch).
 *
 * @example
 * ```ts
 * import { encodeFrames } from "./frame.ts";
 * encodeFrames([Uint8Array.of(1), Uint8Array.of(2, 3)]); // 00 00 00 01 01 00 00 00 02 02 03
 * ```
 */
export function encodeFrames(payloads: Iterable<Uint8Array>): Uint8Array {
  let size = 0;
  for (const p of payloads) size += FRAME_HEADER + p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of payloads) {
    putFrameHeader(out, off, p.length);
    out.set(p, off + FRAME_HEADER);
    off += FRAME_HEADER + p.length;
  }
  return out;
}

/** Write one frame to `sink` (one write for small payloads). */
export async function writeFrame(sink: ByteSink, payload: Uint8Array, maxSize = DEFAULT_MAX_FRAME): Promise<void> {
  if (payload.length > maxSize) {
    throw new WireError(
      "E_WIRE_OVERSIZED",
      "frame",
      `payload of ${payload.length} bytes exceeds the ${maxSize}-byte limit`,
    );
  }
  if (payload.length <= 64 * 1024) return sink.write(encodeFrame(payload));
  const header = new Uint8Array(FRAME_HEADER);
  putFrameHeader(header, 0, payload.length);
  await sink.write(header);
  await sink.write(payload);
}

/**
 * Buffered reads over a `ByteSource`: exact-length reads, frames, and
 * pass-through of whatever is left.
 *
 * @example
 * ```ts
 * import { BufferedReader } from "./frame.ts";
 * declare const source: { read(): Promise<Uint8Array | null> };
 * const reader = new BufferedReader(source);
 * const frame = await reader.readFrame(); // Uint8Array, or null at clean EOF
 * ```
 */
export class BufferedReader implements ByteSource {
  #source: ByteSource;
  #chunks = new Queue<Uint8Array>();
  #buffered = 0;
  #eof = false;

  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** Bytes read from the source but not yet consumed. */
  get buffered(): number {
    return this.#buffered;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = await this.#source.read();
    if (chunk === null) {
      this.#eof = true;
      return false;
    }
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    return true;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks.peek()!;
    if (first.length === n) {
      this.#chunks.shift();
      this.#buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.#chunks.shift();
      this.#chunks.unshift(first.subarray(n));
      this.#buffered -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const chunk = this.#chunks.shift()!;
      const want = n - off;
      if (chunk.length <= want) {
        out.set(chunk, off);
        off += chunk.length;
      } else {
        out.set(chunk.subarray(0, want), off);
        this.#chunks.unshift(chunk.subarray(want));
        off += want;
      }
    }
    this.#buffered -= n;
    return out;
  }

  /**
   * Read exactly `n` bytes. Returns `null` on EOF before the first byte;
   * throws `WireError` (`E_WIRE_TRUNCATED`) on EOF part-way.
   */
  async readExact(n: number, messageType = "frame"): Promise<Uint8Array | null> {
    while (this.#buffered < n) {
      if (!(await this.#fill())) {
        if (this.#buffered === 0) return null;
        throw new WireError("E_WIRE_TRUNCATED", messageType, `stream ended after ${this.#buffered} of ${n} bytes`);
      }
    }
    return n === 0 ? new Uint8Array(0) : this.#take(n);
  }

  /**
   * Read one length-prefixed frame. `null` at a clean end of stream;
   * `WireError` if truncated or larger than `maxSize`.
   */
  async readFrame(maxSize = DEFAULT_MAX_FRAME, messageType = "frame"): Promise<Uint8Array | null> {
    const header = await this.readExact(FRAME_HEADER, messageType);
    if (header === null) return null;
    const length = frameLength(header);
    if (length > maxSize) {
      throw new WireError(
        "E_WIRE_OVERSIZED",
        messageType,
        `frame of ${length} bytes exceeds the ${maxSize}-byte limit`,
      );
    }
    const body = await this.readExact(length, messageType);
    if (body === null) {
      throw new WireError("E_WIRE_TRUNCATED", messageType, `stream ended before a ${length}-byte frame body`);
    }
    return body;
  }

  /** Next chunk: buffered bytes first, then straight from the source. */
  async read(): Promise<Uint8Array | null> {
    if (this.#buffered > 0) {
      const chunk = this.#chunks.shift()!;
      this.#buffered -= chunk.length;
      return chunk;
    }
    if (this.#eof) return null;
    const chunk = await this.#source.read();
    if (chunk === null) this.#eof = true;
    return chunk;
  }
}
