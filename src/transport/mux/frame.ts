/**
 * The stream multiplexer's frame codec.
 *
 * Every frame starts with a fixed 12-byte big-endian header:
 *
 * | bytes | field     | meaning                                              |
 * | ----- | --------- | ---------------------------------------------------- |
 * | 0     | version   | always `1`                                           |
 * | 1     | type      | 0 DATA, 1 WINDOW_UPDATE, 2 PING, 3 GO_AWAY           |
 * | 2–3   | flags     | SYN 1, ACK 2, FIN 4, RST 8                           |
 * | 4–7   | stream id | 0 for PING and GO_AWAY, non-zero otherwise           |
 * | 8–11  | length    | DATA: payload size; WINDOW_UPDATE: credit delta      |
 * |       |           | (with RST: a `ResetCode`); PING: opaque value;       |
 * |       |           | GO_AWAY: error code                                  |
 *
 * Only DATA frames carry a payload (`length` bytes, at most 64 KiB). The
 * decoder validates every field and throws `WireError` (message type
 * `"mux frame"`); `FrameParser` cuts frames out of an arbitrary chunked byte
 * stream.
 *
 * @module
 */
import { WireError } from "../../wire/errors.ts";

/** The protocol version every header carries. */
export const MUX_VERSION = 1;
/** Size of a frame header in bytes. */
export const HEADER_SIZE = 12;
/** Hard limit of one DATA frame's payload (decoder side): 64 KiB. */
export const MAX_DATA_PAYLOAD = 64 * 1024;
/**
 * Largest DATA payload we send: header plus payload then fill one Noise
 * transport message (65,519 plaintext bytes) exactly, so the receiver
 * never has to reassemble a frame from two messages.
 */
export const SEND_SEGMENT = 65_519 - HEADER_SIZE;
/** `WireError.messageType` of every error this codec throws. */
export const MUX_FRAME = "mux frame";

/** Frame types. */
export const FrameType = {
  Data: 0,
  WindowUpdate: 1,
  Ping: 2,
  GoAway: 3,
} as const;
/** One of the `FrameType` values. */
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** Header flag bits. */
export const Flag = {
  /** First frame of a new stream. */
  SYN: 1,
  /** First frame back on a stream the peer opened; PING response. */
  ACK: 2,
  /** The sender half-closed the stream. */
  FIN: 4,
  /** The sender aborted the stream. */
  RST: 8,
} as const;

/** Error codes carried by GO_AWAY. */
export const GoAwayCode = {
  Normal: 0,
  ProtocolError: 1,
  InternalError: 2,
} as const;
/**
 * Why a stream was reset, carried in the length field of a WINDOW_UPDATE
 * with RST (receivers that predate the codes ignore it). Unknown codes read
 * as `Normal`.
 */
export const ResetCode = {
  /** Aborted by the application, or no reason given. */
  Normal: 0,
  /** Refused: the receiver has as many inbound streams as it allows. */
  StreamLimit: 1,
  /** Refused or aborted: the receiver's memory budget (connection or node) is exhausted. */
  Memory: 2,
} as const;
/** One of the `ResetCode` values. */
export type ResetCode = typeof ResetCode[keyof typeof ResetCode];

/** What a reset code received from the peer means, for `StreamResetError`. */
export function resetReason(code: number): string {
  switch (code) {
    case ResetCode.StreamLimit:
      return "stream refused by peer: too many streams";
    case ResetCode.Memory:
      return "stream reset by peer: its receive memory budget is exhausted";
    default:
      return "stream reset by peer";
  }
}

/** One of the `GoAwayCode` values. */
export type GoAwayCode = typeof GoAwayCode[keyof typeof GoAwayCode];

const TYPE_NAMES = ["DATA", "WINDOW_UPDATE", "PING", "GO_AWAY"] as const;
const STREAM_FLAGS = Flag.SYN | Flag.ACK | Flag.FIN | Flag.RST;
const U32_MAX = 0xffff_ffff;

/** A decoded frame header. */
export interface FrameHeader {
  /** What kind of frame this is. */
  type: FrameType;
  /** Bit set of `Flag` values. */
  flags: number;
  /** The stream the frame belongs to; 0 for PING and GO_AWAY. */
  streamId: number;
  /** Payload size (DATA), credit delta, ping value or GO_AWAY code. */
  length: number;
}

/** A whole frame: its header and, for DATA, its payload (empty otherwise). */
export interface Frame extends FrameHeader {
  /** The DATA payload (`length` bytes); empty for other types. */
  payload: Uint8Array;
}

/** Human-readable name of a frame type, e.g. `"WINDOW_UPDATE"`. */
export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, "0")}`;
}

/**
 * What is wrong with a header whose fields are in their integer ranges, or
 * `null` if it is valid.
 */
function headerProblem(
  type: number,
  flags: number,
  streamId: number,
  length: number,
): [code: "E_WIRE_INVALID" | "E_WIRE_OVERSIZED", detail: string] | null {
  if (type > FrameType.GoAway) {
    return ["E_WIRE_INVALID", `unknown frame type ${type}`];
  }
  const name = TYPE_NAMES[type];
  switch (type) {
    case FrameType.Data:
    case FrameType.WindowUpdate:
      if ((flags & ~STREAM_FLAGS) !== 0) {
        return [
          "E_WIRE_INVALID",
          `flags ${hex(flags)} not allowed on ${name} (only SYN, ACK, FIN, RST)`,
        ];
      }
      if ((flags & Flag.SYN) !== 0 && (flags & Flag.ACK) !== 0) {
        return ["E_WIRE_INVALID", `${name} must not carry both SYN and ACK`];
      }
      if (streamId === 0) {
        return ["E_WIRE_INVALID", `${name} must not use stream id 0`];
      }
      if (type === FrameType.Data && length > MAX_DATA_PAYLOAD) {
        return [
          "E_WIRE_OVERSIZED",
          `DATA payload of ${length} bytes exceeds the ${MAX_DATA_PAYLOAD}-byte limit`,
        ];
      }
      return null;
    case FrameType.Ping:
      if (flags !== Flag.SYN && flags !== Flag.ACK) {
        return [
          "E_WIRE_INVALID",
          `PING flags must be exactly SYN or ACK, got ${hex(flags)}`,
        ];
      }
      if (streamId !== 0) {
        return ["E_WIRE_INVALID", `PING must use stream id 0, got ${streamId}`];
      }
      return null;
    default: // GO_AWAY
      if (flags !== 0) {
        return [
          "E_WIRE_INVALID",
          `GO_AWAY must not carry flags, got ${hex(flags)}`,
        ];
      }
      if (streamId !== 0) {
        return [
          "E_WIRE_INVALID",
          `GO_AWAY must use stream id 0, got ${streamId}`,
        ];
      }
      if (length > GoAwayCode.InternalError) {
        return ["E_WIRE_INVALID", `unknown GO_AWAY code ${length}`];
      }
      return null;
  }
}

function isU(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

/**
 * Write `header` into `target` at `offset` without validation. For callers
 * that only ever build valid headers (the muxer's batch writer).
 */
export function writeHeaderInto(
  target: DataView,
  offset: number,
  header: FrameHeader,
): void {
  target.setUint8(offset, MUX_VERSION);
  target.setUint8(offset + 1, header.type);
  target.setUint16(offset + 2, header.flags);
  target.setUint32(offset + 4, header.streamId);
  target.setUint32(offset + 8, header.length);
}

/**
 * Encode a frame header. Throws `RangeError` for a header the decoder would
 * reject, so only well-formed frames are ever produced.
 *
 * @example
 * ```ts
 * import { encodeHeader, Flag, FrameType } from "./frame.ts";
 * const bytes = encodeHeader({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 });
 * bytes.length; // 12
 * ```
 */
export function encodeHeader(header: FrameHeader): Uint8Array {
  const { type, flags, streamId, length } = header;
  if (
    !isU(type, 0xff) || !isU(flags, 0xffff) || !isU(streamId, U32_MAX) ||
    !isU(length, U32_MAX)
  ) {
    throw new RangeError("mux frame header field out of range");
  }
  const problem = headerProblem(type, flags, streamId, length);
  if (problem) throw new RangeError(`cannot encode mux frame: ${problem[1]}`);
  const out = new Uint8Array(HEADER_SIZE);
  writeHeaderInto(new DataView(out.buffer), 0, header);
  return out;
}

/**
 * Decode and validate the header at `offset` of `bytes` (only its first 12
 * bytes are read). Throws `WireError`: `E_WIRE_TRUNCATED` if fewer than 12
 * bytes are available, `E_WIRE_OVERSIZED` for a DATA payload above
 * `MAX_DATA_PAYLOAD`, `E_WIRE_INVALID` for any other bad field.
 *
 * @example
 * ```ts
 * import { decodeHeader, encodeHeader, FrameType } from "./frame.ts";
 * const header = decodeHeader(encodeHeader({ type: FrameType.Ping, flags: 1, streamId: 0, length: 7 }));
 * header.length; // 7
 * ```
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  const available = bytes.length - offset;
  if (available < HEADER_SIZE) {
    throw new WireError(
      "E_WIRE_TRUNCATED",
      MUX_FRAME,
      `header needs ${HEADER_SIZE} bytes, got ${Math.max(0, available)}`,
    );
  }
  const version = bytes[offset];
  if (version !== MUX_VERSION) {
    throw new WireError(
      "E_WIRE_INVALID",
      MUX_FRAME,
      `unsupported version ${version} (expected ${MUX_VERSION})`,
    );
  }
  const type = bytes[offset + 1];
  const flags = (bytes[offset + 2] << 8) | bytes[offset + 3];
  const streamId = readU32(bytes, offset + 4);
  const length = readU32(bytes, offset + 8);
  const problem = headerProblem(type, flags, streamId, length);
  if (problem) throw new WireError(problem[0], MUX_FRAME, problem[1]);
  return { type: type as FrameType, flags, streamId, length };
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) |
    bytes[at + 3]) >>> 0;
}

const EMPTY = new Uint8Array(0);

/**
 * Incremental frame decoder: feed it chunks as they arrive and take whole,
 * validated frames out. Payloads are zero-copy views of the pushed chunks
 * when a payload lies within one chunk, so chunks must not be modified after
 * `push()`.
 *
 * @example
 * ```ts
 * import { FrameParser } from "./frame.ts";
 * declare const chunk: Uint8Array;
 * const parser = new FrameParser();
 * parser.push(chunk);
 * for (let frame = parser.next(); frame !== null; frame = parser.next()) {
 *   console.log(frame.type, frame.streamId, frame.payload.length);
 * }
 * ```
 */
export class FrameParser {
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Read offset into `#chunks[#head]`. */
  #offset = 0;
  #buffered = 0;
  /** A header whose payload has not fully arrived yet. */
  #pending: FrameHeader | null = null;

  /** Bytes pushed and not yet returned as frames (including a pending header). */
  get buffered(): number {
    return this.#buffered + (this.#pending ? HEADER_SIZE : 0);
  }

  /** Append received bytes. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next complete frame, or `null` if more bytes are needed. Throws
   * `WireError` for an invalid header; the parser is unusable afterwards.
   */
  next(): Frame | null {
    let header = this.#pending;
    if (header === null) {
      if (this.#buffered < HEADER_SIZE) return null;
      header = decodeHeader(this.#take(HEADER_SIZE));
    }
    if (header.type !== FrameType.Data || header.length === 0) {
      this.#pending = null;
      return { ...header, payload: EMPTY };
    }
    if (this.#buffered < header.length) {
      this.#pending = header;
      return null;
    }
    this.#pending = null;
    return { ...header, payload: this.#take(header.length) };
  }

  /** Take `n` buffered bytes (`n <= #buffered`, `n > 0`). */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[this.#head];
    const left = first.length - this.#offset;
    if (left >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      if (left === n) this.#advance();
      else this.#offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head];
      const count = Math.min(chunk.length - this.#offset, n - filled);
      out.set(chunk.subarray(this.#offset, this.#offset + count), filled);
      filled += count;
      if (this.#offset + count === chunk.length) this.#advance();
      else this.#offset += count;
    }
    return out;
  }

  #advance(): void {
    this.#offset = 0;
    this.#head++;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 64) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
