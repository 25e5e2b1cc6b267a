/**
 * The proof exchange protocol, `/macula/auth/1`: request/response over the
 * mesh's request envelope (`serveRequests` / `RequestChannel`), one CBOR
 * map per body.
 *
 * Requests:
 * - `{ t: "proofs" }` — the chains the responder holds (its own tokens);
 * - `{ t: "proofs", s: <32-byte node id> }` — the chains the responder
 *   verified and cached for node `s` (its own when `s` is the responder),
 *   so that a receiver of a forwarded pub/sub message can ask the forwarder
 *   about the origin; the asker verifies them again itself;
 * - `{ t: "revocations", o?: offset }` — the responder's stored
 *   revocations from `o` on (anti-entropy).
 *
 * Replies:
 * - proofs: `{ c: [[token, …], …] }` — each chain its encoded delegations,
 *   root first;
 * - revocations: `{ r: [token, …], n?: next offset }` — `n` when more follow.
 *
 * Every count and size is bounded; a body outside the bounds is a
 * `WireError` (the channel drops the peer that sent it).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { nodeIdFromWire } from "../identity/node-id.ts";
import { array, bytes, literal, messageDecoder, object, optional, uint, type Validator } from "../wire/schema.ts";
import { SchemaError } from "../wire/schema.ts";

/** Protocol id. */
export const AUTH_PROTOCOL = "/macula/auth/1";
/** Most chains in one proofs reply. */
export const MAX_CHAINS = 64;
/** Most delegations in one chain. */
export const MAX_CHAIN_LINKS = 8;
/** Largest encoded token, bytes (as the UCAN decoder's bound). */
export const MAX_TOKEN_BYTES = 64 * 1024;
/** Most revocations in one reply. */
export const MAX_REVOCATIONS_PER_REPLY = 256;
/** Largest frame of the protocol, bytes. */
export const MAX_AUTH_FRAME = 1024 * 1024;

/** A request of `/macula/auth/1`. */
export type AuthRequest =
  | { t: "proofs"; subject?: NodeId }
  | { t: "revocations"; offset: number };

/** A proofs reply: chains, each its encoded delegations root first. */
export interface ProofsReply {
  /** The chains. */
  chains: Uint8Array[][];
}

/** A revocations reply. */
export interface RevocationsReply {
  /** Encoded revocation invocations. */
  revocations: Uint8Array[];
  /** The offset to ask from next, when more follow. */
  next?: number;
}

const token = bytes({ max: MAX_TOKEN_BYTES });

const rawRequest = object({
  t: literal("proofs", "revocations"),
  s: optional(bytes({ length: 32 })),
  o: optional(uint()),
});

/** Validates a request body (as `serveRequests` takes it). */
export const validateAuthRequest: Validator<AuthRequest> = (value, path) => {
  const raw = rawRequest(value, path);
  if (raw.t === "revocations") {
    if (raw.s !== undefined) throw new SchemaError(path ? `${path}.s` : "s", "not allowed in a revocations request");
    return { t: "revocations", offset: raw.o ?? 0 };
  }
  if (raw.o !== undefined) throw new SchemaError(path ? `${path}.o` : "o", "not allowed in a proofs request");
  if (raw.s === undefined) return { t: "proofs" };
  let subject: NodeId;
  try {
    subject = nodeIdFromWire(raw.s, "auth request");
  } catch (error) {
    throw new SchemaError(path ? `${path}.s` : "s", (error as Error).message);
  }
  return { t: "proofs", subject };
};

const rawProofs = object({ c: array(array(token, { max: MAX_CHAIN_LINKS }), { max: MAX_CHAINS }) });

/** Validates a proofs reply body; an empty chain is refused. */
export const validateProofsReply: Validator<ProofsReply> = (value, path) => {
  const raw = rawProofs(value, path);
  raw.c.forEach((chain, i) => {
    if (chain.length === 0) throw new SchemaError(`${path ? path + "." : ""}c[${i}]`, "an empty chain");
  });
  return { chains: raw.c };
};

const rawRevocations = object({ r: array(token, { max: MAX_REVOCATIONS_PER_REPLY }), n: optional(uint()) });

/** Validates a revocations reply body. */
export const validateRevocationsReply: Validator<RevocationsReply> = (value, path) => {
  const raw = rawRevocations(value, path);
  return raw.n === undefined ? { revocations: raw.r } : { revocations: raw.r, next: raw.n };
};

/** The body of `request` as sent. */
export function encodeAuthRequest(request: AuthRequest): Record<string, unknown> {
  if (request.t === "revocations") {
    return request.offset ? { t: "revocations", o: request.offset } : { t: "revocations" };
  }
  return request.subject ? { t: "proofs", s: request.subject.bytes } : { t: "proofs" };
}

/** The body of a proofs reply. */
export function encodeProofsReply(reply: ProofsReply): Record<string, unknown> {
  return { c: reply.chains.slice(0, MAX_CHAINS).map((chain) => chain.slice(0, MAX_CHAIN_LINKS)) };
}

/** The body of a revocations reply. */
export function encodeRevocationsReply(reply: RevocationsReply): Record<string, unknown> {
  return reply.next === undefined ? { r: reply.revocations } : { r: reply.revocations, n: reply.next };
}

/**
 * Decode one CBOR request body; throws `WireError`.
 *
 * @example
 * ```ts
 * import { decodeAuthRequest } from "./messages.ts";
 * import { encodeCbor } from "../wire/cbor.ts";
 * decodeAuthRequest(encodeCbor({ t: "revocations", o: 10 })); // { t: "revocations", offset: 10 }
 * ```
 */
export const decodeAuthRequest: (bytes: Uint8Array) => AuthRequest = messageDecoder(
  "auth request",
  validateAuthRequest,
);

/** Decode one CBOR proofs reply body; throws `WireError`. */
export const decodeProofsReply: (bytes: Uint8Array) => ProofsReply = messageDecoder(
  "auth proofs reply",
  validateProofsReply,
);

/** Decode one CBOR revocations reply body; throws `WireError`. */
export const decodeRevocationsReply: (bytes: Uint8Array) => RevocationsReply = messageDecoder(
  "auth revocations reply",
  validateRevocationsReply,
);
