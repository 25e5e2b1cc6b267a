/**
 * `/macula/identify/1`: the handler sends the node's current signed record
 * and closes. Each side asks right after a connection is established, to
 * learn the other's listen addresses and realms.
 *
 * @module
 */
import type { NodeRecord } from "../identity/node-record.ts";
import { decodeNodeRecord, encodeNodeRecord } from "../identity/node-record.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { WireError } from "../wire/errors.ts";

/** Protocol id. */
export const IDENTIFY_PROTOCOL = "/macula/identify/1";
const MAX_RECORD = 8 * 1024;

/** Server side: send `record()` and close. */
export async function handleIdentify(stream: Stream, record: () => NodeRecord): Promise<void> {
  await stream.writeFrame(encodeNodeRecord(record()), MAX_RECORD);
  await stream.closeWrite();
}

/**
 * Ask the peer of `connection` for its record. Throws `WireError` (and
 * closes the connection) if the record is malformed, badly signed, or not
 * the peer's own.
 */
export async function identify(connection: Connection, signal?: AbortSignal): Promise<NodeRecord> {
  const stream = await connection.openStream(IDENTIFY_PROTOCOL, { signal });
  try {
    const frame = await stream.readFrame(MAX_RECORD, "node record");
    if (frame === null) throw new WireError("E_WIRE_TRUNCATED", "node record", "stream ended before the record");
    const record = decodeNodeRecord(frame);
    if (!record.id.equals(connection.remoteId)) {
      throw new WireError("E_WIRE_INVALID", "node record", "record is not the connected peer's");
    }
    await stream.closeWrite();
    return record;
  } catch (error) {
    stream.reset("identify failed");
    if (error instanceof WireError) connection.protocolViolation(error);
    throw error;
  }
}
