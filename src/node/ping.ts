/**
 * `/macula/ping/1`: the opener writes 32 random bytes, the handler echoes
 * them; the round-trip time is the peer's latency. Up to 16 pings may share
 * one stream.
 *
 * @module
 */
import type { Connection, Stream } from "../transport/connection.ts";
import { equals } from "../util/bytes.ts";
import { WireError } from "../wire/errors.ts";
import { BufferedReader } from "../wire/frame.ts";

/** Protocol id. */
export const PING_PROTOCOL = "/macula/ping/1";
const SIZE = 32;
const MAX_PER_STREAM = 16;

/** Server side: echo up to 16 pings, then close. */
export async function handlePing(stream: Stream): Promise<void> {
  const reader = new BufferedReader(stream);
  for (let i = 0; i < MAX_PER_STREAM; i++) {
    const payload = await reader.readExact(SIZE, "ping");
    if (payload === null) break;
    await stream.write(payload);
  }
  await stream.closeWrite();
}

/**
 * Ping the peer of `connection` `count` times on one stream; resolves with
 * the round-trip times in ms.
 *
 * @example
 * ```ts
 * import { ping } from "./ping.ts";
 * declare const conn: import("../transport/connection.ts").Connection;
 * const [rtt] = await ping(conn);
 * ```
 */
export async function ping(connection: Connection, count = 1, signal?: AbortSignal): Promise<number[]> {
  const n = Math.max(1, Math.min(MAX_PER_STREAM, count));
  const stream = await connection.openStream(PING_PROTOCOL, { signal });
  const reader = new BufferedReader(stream);
  const rtts: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const payload = crypto.getRandomValues(new Uint8Array(SIZE));
      const start = performance.now();
      await stream.write(payload);
      const echo = await reader.readExact(SIZE, "ping");
      if (echo === null) throw new WireError("E_WIRE_TRUNCATED", "ping", "stream ended before the echo");
      if (!equals(echo, payload)) throw new WireError("E_WIRE_INVALID", "ping", "echo does not match");
      rtts.push(performance.now() - start);
    }
    await stream.closeWrite();
  } catch (error) {
    stream.reset("ping failed");
    if (error instanceof WireError) connection.protocolViolation(error);
    throw error;
  }
  return rtts;
}
