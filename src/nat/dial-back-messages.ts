/**
 * Wire messages of `/macula/dialback/1`. One request, one answer, then the
 * stream closes. Both are length-prefixed CBOR maps:
 *
 * - request `{ addrs: [text…] }`: 1-4 addresses `quic://host:port` or
 *   `tcp://host:port` (no node id: the dialer pins the requester's id);
 * - answer `{ results: [{ addr, ok, error? }…] }`, one per address in
 *   order (`error` is the dial failure's code, e.g. `E_TIMEOUT`), or
 *   `{ refused: "address" | "rate" | "relayed", message }`.
 *
 * @module
 */
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { array, bool, literal, messageDecoder, object, optional, str } from "../wire/schema.ts";
import type { DialbackRefusal } from "./errors.ts";

/** Protocol id. */
export const DIALBACK_PROTOCOL = "/macula/dialback/1";
/** Most addresses in one request. */
export const MAX_DIALBACK_ADDRS = 4;
/** Largest encoded message, bytes. */
export const MAX_DIALBACK_MESSAGE = 1024;

/** `quic://` or `tcp://`, an IPv4 or bracketed IPv6 literal, a port. */
const ADDR = /^(?:quic|tcp):\/\/(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]{2,45}\]):\d{1,5}$/;

/** A request: dial me back at these addresses. */
export interface DialbackRequest {
  /** Addresses, `quic://host:port` or `tcp://host:port`. */
  addrs: string[];
}

/** The outcome of one dial-back. */
export interface DialbackResult {
  /** The address dialed. */
  addr: string;
  /** Whether the dial reached the requester and it proved its id. */
  ok: boolean;
  /** The failure's code, when not ok. */
  error?: string;
}

/** The answer: results in request order, or a refusal. */
export type DialbackAnswer =
  | { results: DialbackResult[] }
  | { refused: DialbackRefusal; message: string };

const decodeRequestMap = messageDecoder(
  "dialback request",
  object({ addrs: array(str({ max: 64, pattern: ADDR }), { max: MAX_DIALBACK_ADDRS }) }),
);

const decodeAnswerMap = messageDecoder(
  "dialback answer",
  object({
    results: optional(array(
      object({
        addr: str({ max: 64, pattern: ADDR }),
        ok: bool(),
        error: optional(str({ max: 64, pattern: /^[A-Z0-9_]+$/ })),
      }),
      { max: MAX_DIALBACK_ADDRS },
    )),
    refused: optional(literal<DialbackRefusal>("address", "rate", "relayed")),
    message: optional(str({ max: 200 })),
  }),
);

/**
 * Encode a request.
 *
 * @example
 * ```ts
 * import { decodeDialbackRequest, encodeDialbackRequest } from "./dial-back-messages.ts";
 * const bytes = encodeDialbackRequest({ addrs: ["quic://198.51.100.2:9443"] });
 * decodeDialbackRequest(bytes).addrs; // ["quic://198.51.100.2:9443"]
 * ```
 */
export function encodeDialbackRequest(request: DialbackRequest): Uint8Array {
  return encodeCbor({ addrs: request.addrs });
}

/** Decode and check a request; throws `WireError` for anything malformed (including no address). */
export function decodeDialbackRequest(input: Uint8Array): DialbackRequest {
  const m = decodeRequestMap(input);
  if (m.addrs.length === 0) throw new WireError("E_WIRE_INVALID", "dialback request", "no address");
  return { addrs: m.addrs };
}

/** Encode an answer. */
export function encodeDialbackAnswer(answer: DialbackAnswer): Uint8Array {
  if ("refused" in answer) return encodeCbor({ refused: answer.refused, message: answer.message.slice(0, 200) });
  return encodeCbor({
    results: answer.results.map((r) => r.error === undefined ? { addr: r.addr, ok: r.ok } : { ...r }),
  });
}

/** Decode and check an answer; throws `WireError` unless it is exactly one of the two forms. */
export function decodeDialbackAnswer(input: Uint8Array): DialbackAnswer {
  const m = decodeAnswerMap(input);
  if (m.refused !== undefined && m.results === undefined) {
    return { refused: m.refused, message: m.message ?? "" };
  }
  if (m.results !== undefined && m.refused === undefined) {
    return {
      results: m.results.map((r) => r.error === undefined ? { addr: r.addr, ok: r.ok } : { ...r } as DialbackResult),
    };
  }
  throw new WireError("E_WIRE_INVALID", "dialback answer", "expected either results or refused");
}
