/**
 * `/macula/identify/2`: the handler answers with one message and closes.
 * Each side asks right after a connection is established, to learn the
 * other's listen addresses and realms, and the address it is seen at.
 *
 * The answer is the CBOR map `{ record, transport, observed }`: `record`
 * is the answering node's signed node record (its encoded bytes),
 * `transport` the transport of the connection and `observed` the remote
 * address of the connection as the answering node sees it (`host:port`,
 * or what the transport reports).
 *
 * @module
 */
import type { NodeRecord } from "../identity/node-record.ts";
import { decodeNodeRecord, encodeNodeRecord } from "../identity/node-record.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import type { TransportKind } from "../transport/session.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { bytes, messageDecoder, object, str } from "../wire/schema.ts";

/** Protocol id. */
export const IDENTIFY_PROTOCOL = "/macula/identify/2";
const MAX_RECORD = 8 * 1024;
const MAX_MESSAGE = MAX_RECORD + 512;

/** What identify tells the asking node. */
export interface IdentifyAnswer {
  /** The peer's verified record. */
  record: NodeRecord;
  /** The transport of the connection, as the peer reports it. */
  transport: TransportKind;
  /** The address the peer sees us at. */
  observed: string;
}

/** Printable ASCII words separated by single spaces. */
const OBSERVED_PATTERN = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

const decodeEnvelope = messageDecoder(
  "identify",
  object({
    record: bytes({ max: MAX_RECORD }),
    transport: str({ min: 1, max: 32, pattern: /^[a-z][a-z0-9+.-]*$/ }),
    observed: str({ min: 1, max: 256, pattern: OBSERVED_PATTERN }),
  }),
);

/**
 * Decode and check an identify answer: the envelope, then the record's
 * signature. Throws `WireError` for anything malformed.
 */
export function decodeIdentify(input: Uint8Array): IdentifyAnswer {
  const m = decodeEnvelope(input);
  return { record: decodeNodeRecord(m.record), transport: m.transport, observed: m.observed };
}

/** Encode an identify answer. */
export function encodeIdentify(record: NodeRecord, transport: TransportKind, observed: string): Uint8Array {
  return encodeCbor({ record: encodeNodeRecord(record), transport, observed });
}

/** Server side: send `record()` and the connection's remote address, then close. */
export async function handleIdentify(stream: Stream, record: () => NodeRecord): Promise<void> {
  const conn = stream.connection;
  const seen = conn.remoteAddress;
  const observed = seen.length <= 256 && OBSERVED_PATTERN.test(seen) ? seen : "unknown";
  await stream.writeFrame(encodeIdentify(record(), conn.transport, observed), MAX_MESSAGE);
  await stream.closeWrite();
}

/**
 * Ask the peer of `connection` for its record and the address it sees us
 * at. Throws `WireError` (and closes the connection) if the answer is
 * malformed, badly signed, or the record is not the peer's own.
 */
export async function identify(connection: Connection, signal?: AbortSignal): Promise<IdentifyAnswer> {
  const stream = await connection.openStream(IDENTIFY_PROTOCOL, { signal });
  try {
    const frame = await stream.readFrame(MAX_MESSAGE, "identify");
    if (frame === null) throw new WireError("E_WIRE_TRUNCATED", "identify", "stream ended before the answer");
    const answer = decodeIdentify(frame);
    if (!answer.record.id.equals(connection.remoteId)) {
      throw new WireError("E_WIRE_INVALID", "node record", "record is not the connected peer's");
    }
    await stream.closeWrite();
    return answer;
  } catch (error) {
    stream.reset("identify failed");
    if (error instanceof WireError) connection.protocolViolation(error);
    throw error;
  }
}
