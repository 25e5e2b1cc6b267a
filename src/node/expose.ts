/**
 * Application handlers addressed by node id (PeerNet style): a node
 * `expose`s a named handler, other nodes `request` it by the node's id.
 * Closed by default: nothing is reachable until exposed, and `authorize`
 * narrows who may call.
 *
 * Wire: protocol `/macula/app/1/<name>`; request frame `{ a: payload }`;
 * reply frame `{ ok: true, r: result }` or `{ ok: false, e: message }`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Connection, Stream, StreamHandler } from "../transport/connection.ts";
import { withDeadline } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";
import { WireError } from "../wire/errors.ts";
import { DEFAULT_MAX_FRAME } from "../wire/frame.ts";
import { any, bool, messageDecoder, object, optional, str } from "../wire/schema.ts";

/** Protocol prefix of exposed handlers. */
export const APP_PROTOCOL_PREFIX = "/macula/app/1/";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An exposed handler: gets the caller's proven id and the payload. */
export type ExposedHandler = (from: NodeId, payload: unknown) => unknown | Promise<unknown>;

/** The remote handler threw; `message` carries its error message. */
export class RemoteHandlerError extends MaculaError {
  constructor(readonly handler: string, readonly remoteMessage: string) {
    super("E_REMOTE_HANDLER", `remote handler ${handler} failed: ${remoteMessage}`);
  }
}

/** Check a handler name and return its protocol id. */
export function appProtocol(name: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `invalid handler name ${JSON.stringify(name)}: use 1-64 of A-Z a-z 0-9 . _ - (starting alphanumeric)`,
    );
  }
  return APP_PROTOCOL_PREFIX + name;
}

/** Decodes an app request frame. */
export const decodeRequest = messageDecoder("app request", object({ a: any() }));
/** Decodes an app reply frame. */
export const decodeReply = messageDecoder(
  "app reply",
  object({ ok: bool(), r: any(), e: optional(str({ max: 1000 })) }),
);

/** Wrap an `ExposedHandler` as a stream handler. */
export function exposedStreamHandler(
  name: string,
  handler: ExposedHandler,
  maxPayload = DEFAULT_MAX_FRAME,
): StreamHandler {
  return async (stream: Stream) => {
    const request = await stream.readMessage(decodeRequest, maxPayload);
    if (request === null) throw new WireError("E_WIRE_TRUNCATED", "app request", "stream ended before the request");
    let reply: unknown;
    try {
      reply = { ok: true, r: await handler(stream.remoteId, request.a) };
    } catch (error) {
      reply = { ok: false, e: String((error as Error)?.message ?? error).slice(0, 1000) };
    }
    try {
      await stream.writeMessage(reply, maxPayload);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      await stream.writeMessage({ ok: false, e: `reply of handler ${name} is too large` });
    }
    await stream.closeWrite();
  };
}

/** Options of a request. */
export interface RequestOptions {
  /** Deadline in ms. Default 30 000. */
  timeout?: number;
  signal?: AbortSignal;
  /** Largest request/reply accepted, bytes. Default 1 MiB. */
  maxPayload?: number;
}

/**
 * Call handler `name` on the peer of `connection`. Rejects with
 * `ProtocolRefusedError` if the peer does not expose it to us,
 * `RemoteHandlerError` if it threw, `TimeoutError`/`AbortedError`, or
 * `WireError` if the payload is too large.
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
      await stream.writeMessage({ a: payload }, maxPayload);
      await stream.closeWrite();
      sent = true;
      const reply = await stream.readMessage(decodeReply, maxPayload);
      if (reply === null) throw new WireError("E_WIRE_TRUNCATED", "app reply", "stream ended before the reply");
      if (!reply.ok) throw new RemoteHandlerError(name, reply.e ?? "unknown error");
      return reply.r;
    } catch (error) {
      stream.reset("request failed");
      if (sent && error instanceof WireError) connection.protocolViolation(error);
      throw error;
    }
  })();
  return withDeadline(work, options.timeout ?? 30_000, `request ${name} to ${connection.remoteId.short}`, {
    signal: options.signal,
  });
}
