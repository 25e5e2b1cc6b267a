/**
 * Length-prefixed frames: a 4-byte big-endian length, then the payload.
 * Readers enforce a hard maximum so a peer cannot make us buffer unbounded
 * data.
 *
 * @module
 */
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

/** Prefix `payload` with its length. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
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
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, payload.length);
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
  #chunks: Uint8Array[] = [];
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
    const first = this.#chunks[0];
    if (first.length === n) {
      this.#chunks.shift();
      this.#buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const chunk = this.#chunks[0];
      const want = n - off;
      if (chunk.length <= want) {
        out.set(chunk, off);
        off += chunk.length;
        this.#chunks.shift();
      } else {
        out.set(chunk.subarray(0, want), off);
        this.#chunks[0] = chunk.subarray(want);
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
    const header = await this.readExact(4, messageType);
    if (header === null) return null;
    const length = ((header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3]) >>> 0;
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
