/**
 * Application handlers addressed by node id (PeerNet style): a node
 * `expose`s a named handler, other nodes `request` it by the node's id.
 * Closed by default: nothing is reachable until exposed, and `authorize`
 * narrows who may call.
 *
 * Wire: protocol `/macula/app/1/<name>`, one stream per request carrying the
 * mesh's request envelope (`envelope.ts`): request `{ i: 0, b: payload, u? }`,
 * reply `{ i: 0, b: result }` or `{ i: 0, e: { c, m } }`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Connection, Stream, StreamHandler } from "../transport/connection.ts";
import { withDeadline } from "../util/async.ts";
import { WireError } from "../wire/errors.ts";
import { DEFAULT_MAX_FRAME } from "../wire/frame.ts";
import { NotAuthorizedError } from "./authorize.ts";
import { decodeEnvelope, DEFAULT_REQUEST_TIMEOUT, errorReply, remoteFailure } from "./envelope.ts";

export { RemoteHandlerError } from "./envelope.ts";

/** Protocol prefix of exposed handlers. */
export const APP_PROTOCOL_PREFIX = "/macula/app/1/";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An exposed handler: gets the caller's proven id and the payload. */
export type ExposedHandler = (from: NodeId, payload: unknown) => unknown | Promise<unknown>;

/** Check a handler name and return its protocol id. */
export function appProtocol(name: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `invalid handler name ${JSON.stringify(name)}: use 1-64 of A-Z a-z 0-9 . _ - (starting alphanumeric)`,
    );
  }
  return APP_PROTOCOL_PREFIX + name;
}

/** Decides, per request, whether `from` may call; `auth` is the envelope's authorization material. */
export type RequestGate = (from: NodeId, auth: unknown) => boolean | Promise<boolean>;

/**
 * Wrap an `ExposedHandler` as a stream handler: read one request envelope,
 * ask `gate` (a refusal is answered with `E_NOT_AUTHORIZED`), run the
 * handler and write its result or error.
 *
 * @example
 * ```ts
 * import { exposedStreamHandler } from "./expose.ts";
 * const handler = exposedStreamHandler("echo", (_from, payload) => payload, { gate: () => true });
 * ```
 */
export function exposedStreamHandler(
  name: string,
  handler: ExposedHandler,
  options: { maxPayload?: number; gate?: RequestGate } = {},
): StreamHandler {
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_FRAME;
  return async (stream: Stream) => {
    const request = await stream.readMessage(decodeEnvelope, maxPayload);
    if (request === null) throw new WireError("E_WIRE_TRUNCATED", "app request", "stream ended before the request");
    let reply: unknown;
    try {
      if (options.gate && !(await options.gate(stream.remoteId, request.u))) {
        throw new NotAuthorizedError(`not authorized to request ${name}`);
      }
      reply = { i: request.i, b: await handler(stream.remoteId, request.b) };
    } catch (error) {
      reply = errorReply(request.i, error);
    }
    try {
      await stream.writeMessage(reply, maxPayload);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      await stream.writeMessage(errorReply(request.i, new Error(`reply of handler ${name} is too large`)));
    }
    await stream.closeWrite();
    // The caller half-closed after its request: read that end, so the stream counts as finished (QUIC needs it).
    if ((await stream.read()) !== null) stream.reset("data after the request");
  };
}

/** Options of a request. */
export interface RequestOptions {
  /** Deadline in ms. Default `DEFAULT_REQUEST_TIMEOUT` (10 000). */
  timeout?: number;
  /** Cancels the request. */
  signal?: AbortSignal;
  /** Largest request/reply accepted, bytes. Default 1 MiB. */
  maxPayload?: number;
  /** Authorization material for the envelope's `u` slot (e.g. a capability token). */
  auth?: unknown;
}

/**
 * Call handler `name` on the peer of `connection`. Rejects with
 * `ProtocolRefusedError` if the peer does not expose it (or refuses us at
 * the stream gate), `NotAuthorizedError` if it refused this request,
 * `RemoteHandlerError` if the handler threw, `TimeoutError`/`AbortedError`,
 * or `WireError` if the payload is too large.
 */
export function requestOver(
  connection: Connection,
  name: string,
  payload: unknown,
  options: RequestOptions = {},
): Promise<unknown> {
  const protocol = appProtocol(name);
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_FRAME;
  const work = (async () => {
    const stream = await connection.openStream(protocol, { signal: options.signal });
    let sent = false;
    try {
      const request = options.auth === undefined ? { i: 0, b: payload } : { i: 0, b: payload, u: options.auth };
      await stream.writeMessage(request, maxPayload);
      await stream.closeWrite();
      sent = true;
      const reply = await stream.readMessage(decodeEnvelope, maxPayload);
      if (reply === null) throw new WireError("E_WIRE_TRUNCATED", "app reply", "stream ended before the reply");
      // Read the end of the stream too: QUIC counts a stream as finished only once both sides read to its end.
      stream.read().then((rest) => rest === null || stream.reset("data after the reply"), () => {});
      if (reply.e) throw remoteFailure(reply.e, name);
      return reply.b;
    } catch (error) {
      stream.reset("request failed");
      if (sent && error instanceof WireError) connection.protocolViolation(error);
      throw error;
    }
  })();
  return withDeadline(
    work,
    options.timeout ?? DEFAULT_REQUEST_TIMEOUT,
    `request ${name} to ${connection.remoteId.short}`,
    {
      signal: options.signal,
    },
  );
}
