/**
 * `/macula/identify/3`: the handler answers with one message and closes.
 * Each side asks right after a connection is established (before the
 * connection manager adopts it), to learn the other's listen addresses and
 * realms, the address it is seen at, and the other's session.
 *
 * The answer is the CBOR map `{ record, transport, observed, session }`:
 * `record` is the answering node's signed node record (its encoded bytes),
 * `transport` the transport of the connection, `observed` the remote
 * address of the connection as the answering node sees it (`host:port`,
 * or what the transport reports) and `session` 16 random bytes the
 * answering node chose when it started. A connection from a peer whose
 * session differs from the one its older connections carry proves that the
 * peer restarted: the older ones are dead (version 2 had no session).
 *
 * @module
 */
import type { NodeRecord } from "../identity/node-record.ts";
import { decodeNodeRecord, encodeNodeRecord } from "../identity/node-record.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import type { TransportKind } from "../transport/session.ts";
import { toHex } from "../util/bytes.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { bytes, messageDecoder, object, str } from "../wire/schema.ts";

/** Protocol id. */
export const IDENTIFY_PROTOCOL = "/macula/identify/3";
/** Bytes of a session nonce. */
export const SESSION_BYTES = 16;
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
  /** The peer's session (hex of the nonce it chose when it started). */
  session: string;
}

/** Printable ASCII words separated by single spaces. */
const OBSERVED_PATTERN = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

const decodeEnvelope = messageDecoder(
  "identify",
  object({
    record: bytes({ max: MAX_RECORD }),
    transport: str({ min: 1, max: 32, pattern: /^[a-z][a-z0-9+.-]*$/ }),
    observed: str({ min: 1, max: 256, pattern: OBSERVED_PATTERN }),
    session: bytes({ length: SESSION_BYTES }),
  }),
);

/**
 * Decode and check an identify answer: the envelope, then the record's
 * signature. Throws `WireError` for anything malformed.
 */
export function decodeIdentify(input: Uint8Array): IdentifyAnswer {
  const m = decodeEnvelope(input);
  return {
    record: decodeNodeRecord(m.record),
    transport: m.transport,
    observed: m.observed,
    session: toHex(m.session),
  };
}

/** A fresh session nonce (random; a node picks one each time it starts). */
export function newSession(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SESSION_BYTES));
}

/** Encode an identify answer. */
export function encodeIdentify(
  record: NodeRecord,
  transport: TransportKind,
  observed: string,
  session: Uint8Array,
): Uint8Array {
  return encodeCbor({ record: encodeNodeRecord(record), transport, observed, session });
}

/** Server side: send `record()`, the connection's remote address and `session`, then close. */
export async function handleIdentify(stream: Stream, record: () => NodeRecord, session: Uint8Array): Promise<void> {
  const conn = stream.connection;
  const seen = conn.remoteAddress;
  const observed = seen.length <= 256 && OBSERVED_PATTERN.test(seen) ? seen : "unknown";
  await stream.writeFrame(encodeIdentify(record(), conn.transport, observed, session), MAX_MESSAGE);
  await stream.closeWrite();
}

/**
 * Ask the peer of `connection` for its record and the address it sees us
 * at, and its session. Throws `WireError` (and closes the connection) if the
 * answer is malformed, badly signed, or the record is not the peer's own;
 * `signal` cancels it (the stream is reset).
 */
export async function identify(connection: Connection, signal?: AbortSignal): Promise<IdentifyAnswer> {
  const stream = await connection.openStream(IDENTIFY_PROTOCOL, { signal });
  const abort = () => stream.reset("identify cancelled");
  signal?.addEventListener("abort", abort, { once: true });
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
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}
