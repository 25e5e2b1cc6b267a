/**
 * The one request/response envelope of the mesh, shared by `expose` /
 * `request`, the DHT and RPC, with one error model and one default timeout.
 *
 * Frames (CBOR maps):
 * - request `{ i, b, u? }`: request id `i` (unique per stream), body `b`,
 *   and optional authorization material `u` (e.g. a capability token),
 *   handed to the authorization hook as `Operation.auth`;
 * - reply `{ i, b }`, or `{ i, e: { c, m } }` for an error with code `c`
 *   (`E_…`, at most 64 characters) and message `m` (at most 1,000).
 *
 * A one-shot request (`expose`) sends one request and reads one reply on its
 * own stream; a request channel (DHT, RPC) keeps one stream per peer and
 * matches replies by `i`.
 *
 * Error replies become typed errors on the requesting side
 * (`remoteFailure`): `E_NOT_AUTHORIZED` → `NotAuthorizedError`, `E_HANDLER`
 * → `RemoteHandlerError`, anything else → `RemoteError` with the code.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";
import { any, messageDecoder, object, optional, str, uint } from "../wire/schema.ts";
import { NotAuthorizedError } from "./authorize.ts";

/** Default deadline of a request, ms (expose/request, DHT, RPC). */
export const DEFAULT_REQUEST_TIMEOUT = 10_000;

/** The remote side answered a request with an error. */
export class RemoteError extends MaculaError {
  /** `remoteCode` is the code the remote sent; `code` is it when it looks like one, else `E_REMOTE`. */
  constructor(readonly remoteCode: string, message: string) {
    super(remoteCode.startsWith("E_") ? remoteCode : "E_REMOTE", message);
  }
}

/** The remote handler threw; `remoteMessage` carries its error message. */
export class RemoteHandlerError extends MaculaError {
  /** `handler` names the handler or procedure that failed. */
  constructor(readonly handler: string, readonly remoteMessage: string) {
    super("E_REMOTE_HANDLER", `remote handler ${handler} failed: ${remoteMessage}`);
  }
}

/** Decodes a request or reply envelope. */
export const decodeEnvelope = messageDecoder(
  "request envelope",
  object({
    i: uint(),
    b: any(),
    e: optional(object({ c: str({ max: 64 }), m: str({ max: 1000 }) })),
    u: any(),
  }),
);

/** A decoded envelope. */
export type Envelope = ReturnType<typeof decodeEnvelope>;

/**
 * The error reply for `error` thrown by a handler: a `MaculaError` keeps its
 * code, anything else is `E_HANDLER` (the handler itself failed).
 *
 * @example
 * ```ts
 * import { errorReply } from "./envelope.ts";
 * errorReply(7, new Error("sensor offline")); // { i: 7, e: { c: "E_HANDLER", m: "sensor offline" } }
 * ```
 */
export function errorReply(id: number, error: unknown): { i: number; e: { c: string; m: string } } {
  const code = error instanceof MaculaError ? error.code : "E_HANDLER";
  return { i: id, e: { c: code.slice(0, 64), m: String((error as Error)?.message ?? error).slice(0, 1000) } };
}

/**
 * The typed error for an error reply to a request of `what` (a handler or
 * procedure name, for messages).
 *
 * @example
 * ```ts
 * import { remoteFailure } from "./envelope.ts";
 * remoteFailure({ c: "E_NOT_AUTHORIZED", m: "no" }, "math.add").name; // "NotAuthorizedError"
 * ```
 */
export function remoteFailure(e: { c: string; m: string }, what: string): MaculaError {
  if (e.c === "E_NOT_AUTHORIZED") return new NotAuthorizedError(e.m);
  if (e.c === "E_HANDLER") return new RemoteHandlerError(what, e.m);
  return new RemoteError(e.c, e.m);
}
