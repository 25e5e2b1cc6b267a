/**
 * The relay wire protocols. Every message is one length-prefixed CBOR map
 * (at most `MAX_RELAY_MESSAGE` bytes); after an `ok` answer to CONNECT (hop)
 * or to the stop request, the stream carries only the bytes of the
 * end-to-end Noise session between the two end nodes.
 *
 * `/macula/relay/hop/1` — client → relay, or relay → peer relay:
 * - `{t: "reserve"}` → `{ok: true, ttl, limits: {circuits, rate}}` or `{ok: false, reason}`;
 * - `{t: "connect", target, via?}` (client) → `{ok: true}` or `{ok: false, reason}`;
 * - `{t: "connect", target, from, hops: 1}` (relay → peer relay) → the same.
 *
 * `/macula/relay/stop/1` — relay → the reserved target: `{from}` → `{ok: true}` or `{ok: false, reason}`.
 *
 * Ids (`target`, `via`, `from`) are the 32-byte Ed25519 public keys.
 *
 * @module
 */
import { NodeId } from "../identity/node-id.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { bool, bytes, literal, messageDecoder, object, optional, str, uint } from "../wire/schema.ts";
import type { RefusalReason } from "./errors.ts";

/** Protocol of reservations and circuit requests (to a relay). */
export const HOP_PROTOCOL = "/macula/relay/hop/1";
/** Protocol a relay uses to hand a circuit to a reserved target. */
export const STOP_PROTOCOL = "/macula/relay/stop/1";
/** Largest relay control message, bytes. */
export const MAX_RELAY_MESSAGE = 1024;
/** Most inter-relay hops a circuit may take. */
export const MAX_HOPS = 1;

/** A request on the hop protocol. */
export type HopRequest =
  | { t: "reserve" }
  | { t: "connect"; target: NodeId; via?: NodeId }
  | { t: "connect"; target: NodeId; from: NodeId; hops: number };

/** The answer to a hop or stop request. */
export type RelayAnswer =
  | { ok: true; ttl?: number; limits?: { circuits: number; rate: number } }
  | { ok: false; reason: RefusalReason };

/** A stop request: the relay tells the target who dials it. */
export interface StopRequest {
  /** The dialing node. */
  from: NodeId;
}

const id = bytes({ length: 32 });

/** A node id from wire bytes; a weak or malformed key is a `WireError`. */
function nodeId(raw: Uint8Array, type: string, field: string): NodeId {
  try {
    return new NodeId(raw);
  } catch (error) {
    throw new WireError("E_WIRE_INVALID", type, `${field}: ${(error as Error).message}`);
  }
}
const REASON = /^[a-z][a-z0-9-]*$/;

const decodeHopShape = messageDecoder(
  "relay hop request",
  object({
    t: literal("reserve", "connect"),
    target: optional(id),
    via: optional(id),
    from: optional(id),
    hops: optional(uint({ max: 255 })),
  }),
);

/**
 * Decode a hop request; throws `WireError` for anything malformed or
 * inconsistent (a reserve naming a target, a connect without one, `from`
 * without `hops`, a relay-forwarded connect that names `via`).
 *
 * @example
 * ```ts
 * import { decodeHopRequest, encodeHopRequest } from "./messages.ts";
 * decodeHopRequest(encodeHopRequest({ t: "reserve" })); // { t: "reserve" }
 * ```
 */
export function decodeHopRequest(input: Uint8Array): HopRequest {
  const m = decodeHopShape(input);
  const bad = (detail: string) => new WireError("E_WIRE_INVALID", "relay hop request", detail);
  if (m.t === "reserve") {
    if (m.target || m.via || m.from || m.hops !== undefined) throw bad("a reserve request carries no other field");
    return { t: "reserve" };
  }
  if (!m.target) throw bad("a connect request needs a target");
  const target = nodeId(m.target, "relay hop request", "target");
  if (m.from || m.hops !== undefined) {
    if (!m.from || m.hops === undefined) throw bad("a forwarded connect needs both from and hops");
    if (m.via) throw bad("a forwarded connect cannot name another relay");
    return { t: "connect", target, from: nodeId(m.from, "relay hop request", "from"), hops: m.hops };
  }
  return m.via ? { t: "connect", target, via: nodeId(m.via, "relay hop request", "via") } : { t: "connect", target };
}

/**
 * Encode a hop request.
 *
 * @example
 * ```ts
 * import { encodeHopRequest } from "./messages.ts";
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { NodeId } from "../identity/node-id.ts";
 * const frame = encodeHopRequest({ t: "connect", target: new NodeId(KeyPair.generate().publicKey) });
 * ```
 */
export function encodeHopRequest(request: HopRequest): Uint8Array {
  if (request.t === "reserve") return encodeCbor({ t: "reserve" });
  const out: Record<string, unknown> = { t: "connect", target: request.target.bytes };
  if ("from" in request) {
    out.from = request.from.bytes;
    out.hops = request.hops;
  } else if (request.via) {
    out.via = request.via.bytes;
  }
  return encodeCbor(out);
}

const decodeAnswerShape = messageDecoder(
  "relay answer",
  object({
    ok: bool(),
    ttl: optional(uint({ max: 7 * 24 * 3_600_000 })),
    limits: optional(object({ circuits: uint({ max: 1_000_000 }), rate: uint() })),
    reason: optional(str({ min: 1, max: 64, pattern: REASON })),
  }),
);

/**
 * Decode an answer (hop or stop); throws `WireError` when malformed (a
 * refusal without a reason, an acceptance with one).
 *
 * @example
 * ```ts
 * import { decodeRelayAnswer, encodeRelayAnswer } from "./messages.ts";
 * decodeRelayAnswer(encodeRelayAnswer({ ok: false, reason: "circuit-limit" })); // { ok: false, reason: "circuit-limit" }
 * ```
 */
export function decodeRelayAnswer(input: Uint8Array): RelayAnswer {
  const m = decodeAnswerShape(input);
  if (!m.ok) {
    if (!m.reason) throw new WireError("E_WIRE_INVALID", "relay answer", "a refusal needs a reason");
    return { ok: false, reason: m.reason };
  }
  if (m.reason) throw new WireError("E_WIRE_INVALID", "relay answer", "an acceptance carries no reason");
  const out: RelayAnswer = { ok: true };
  if (m.ttl !== undefined) out.ttl = m.ttl;
  if (m.limits) out.limits = { circuits: m.limits.circuits, rate: m.limits.rate };
  return out;
}

/**
 * Encode an answer.
 *
 * @example
 * ```ts
 * import { encodeRelayAnswer } from "./messages.ts";
 * const frame = encodeRelayAnswer({ ok: true, ttl: 900_000, limits: { circuits: 16, rate: 1 << 20 } });
 * ```
 */
export function encodeRelayAnswer(answer: RelayAnswer): Uint8Array {
  return encodeCbor(answer);
}

const decodeStopShape = messageDecoder("relay stop request", object({ from: id }));

/**
 * Decode a stop request; throws `WireError` when malformed.
 *
 * @example
 * ```ts
 * import { decodeStopRequest, encodeStopRequest } from "./messages.ts";
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { NodeId } from "../identity/node-id.ts";
 * const from = new NodeId(KeyPair.generate().publicKey);
 * decodeStopRequest(encodeStopRequest({ from })).from.equals(from); // true
 * ```
 */
export function decodeStopRequest(input: Uint8Array): StopRequest {
  return { from: nodeId(decodeStopShape(input).from, "relay stop request", "from") };
}

/** Encode a stop request (see `decodeStopRequest`). */
export function encodeStopRequest(request: StopRequest): Uint8Array {
  return encodeCbor({ from: request.from.bytes });
}
