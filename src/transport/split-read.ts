/**
 * Reading exactly what is needed from a stream whose chunks can be split
 * (the muxer's), so the rest stays queued in the stream, where it is still
 * charged to the connection's receive budget. Stream negotiation uses it.
 *
 * @module
 */
import { concat } from "../util/bytes.ts";
import { WireError } from "../wire/errors.ts";
import type { ByteStream } from "./stream.ts";

/** A stream that can hand out part of a received chunk (the muxer's streams can: `MuxStream.readUpTo`). */

export interface Splittable extends ByteStream {
  readUpTo(max: number): Promise<Uint8Array | null>;
}

/** Can `stream` hand out part of a chunk? */
export function isSplittable(stream: ByteStream): stream is Splittable {
  return typeof (stream as Partial<Splittable>).readUpTo === "function";
}

/** Exactly `n` bytes of `stream`, `null` at a clean end before any; `WireError` if it ends in between. */
export async function readExactly(stream: Splittable, n: number): Promise<Uint8Array | null> {
  const parts: Uint8Array[] = [];
  for (let got = 0; got < n;) {
    const chunk = await stream.readUpTo(n - got);
    if (chunk === null) {
      if (got === 0) return null;
      throw new WireError("E_WIRE_TRUNCATED", "stream negotiation", `stream ended after ${got} of ${n} bytes`);
    }
    parts.push(chunk);
    got += chunk.length;
  }
  return parts.length === 1 ? parts[0] : concat(...parts);
}
