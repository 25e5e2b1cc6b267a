/**
 * Request/response over one long-lived stream per peer and protocol: many
 * concurrent requests share the stream, matched by id, so a request costs one
 * round trip after the first. Used by the DHT and RPC. The frames are the
 * mesh's one request envelope (`envelope.ts`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { ConnectionClosedError } from "../transport/errors.ts";
import { deferred, withDeadline } from "../util/async.ts";
import { WireError } from "../wire/errors.ts";
import { SchemaError, type Validator } from "../wire/schema.ts";
import type { HandleOptions } from "./protocol-registry.ts";
import { decodeEnvelope, DEFAULT_REQUEST_TIMEOUT, type Envelope, errorReply, remoteFailure } from "./envelope.ts";

export { decodeEnvelope, RemoteError } from "./envelope.ts";

/**
 * Decode one request frame of `protocol` exactly as `serveRequests` does:
 * the envelope, then its body with `validate`. Throws `WireError`.
 *
 * @example
 * ```ts
 * import { decodeRequest } from "./request-channel.ts";
 * import { encodeCbor } from "../wire/cbor.ts";
 * import { any } from "../wire/schema.ts";
 * decodeRequest(encodeCbor({ i: 1, b: "hi" }), "/example/1", any()).request; // "hi"
 * ```
 */
export function decodeRequest<Req>(
  frame: Uint8Array,
  protocol: string,
  validate: Validator<Req>,
): { envelope: Envelope; request: Req } {
  const envelope = decodeEnvelope(frame);
  try {
    return { envelope, request: validate(envelope.b, "b") };
  } catch (error) {
    throw new WireError("E_WIRE_INVALID", `${protocol} request`, (error as Error).message);
  }
}

/**
 * Validate the body of a reply of `protocol` exactly as `RequestChannel`
 * does (after `decodeEnvelope` of its frame). Throws `WireError`.
 */
export function validateReply<Res>(body: unknown, protocol: string, validate: Validator<Res>): Res {
  try {
    return validate(body, "b");
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    throw new WireError("E_WIRE_INVALID", `${protocol} reply`, error.message);
  }
}

/** Options of one request. */
export interface RequestChannelOptions {
  /** Deadline, ms. Default `DEFAULT_REQUEST_TIMEOUT` (10 000). */
  timeout?: number;
  /** Cancels the request. */
  signal?: AbortSignal;
  /** Authorization material for the envelope's `u` slot (e.g. a capability token). */
  auth?: unknown;
}

/** What a request channel needs of its node: connections by peer id. */
export interface Dialer {
  /** Connect to `peer` or reuse the open connection. */
  connect(peer: NodeId, options?: { signal?: AbortSignal }): Promise<Connection>;
}

/** What `serveRequests` needs of its node: protocol registration. */
export interface Handler {
  /** Register a stream handler; returns its unregister function. */
  handle(protocol: string, handler: (stream: Stream) => Promise<void>, options?: HandleOptions): () => void;
}

interface Pipe {
  stream: Stream;
  pending: Map<number, ReturnType<typeof deferred<unknown>>>;
  nextId: number;
}

/**
 * The requesting side of a protocol.
 *
 * @example
 * ```ts
 * import { RequestChannel } from "./request-channel.ts";
 * import { any } from "../wire/schema.ts";
 * declare const node: import("./request-channel.ts").Dialer;
 * declare const peer: import("../identity/node-id.ts").NodeId;
 * const channel = new RequestChannel(node, "/example/echo/1", any());
 * const reply = await channel.request(peer, { hello: "world" });
 * ```
 */
export class RequestChannel<Res> {
  #node: Dialer;
  #protocol: string;
  #validate: Validator<Res>;
  #maxFrame: number;
  #pipes = new WeakMap<Connection, Promise<Pipe>>();

  constructor(node: Dialer, protocol: string, validateReply: Validator<Res>, options: { maxFrame?: number } = {}) {
    this.#node = node;
    this.#protocol = protocol;
    this.#validate = validateReply;
    this.#maxFrame = options.maxFrame ?? 1024 * 1024;
  }

  /**
   * Send `body` to `peer` (connecting if needed) and return the validated
   * reply. Rejects with `RemoteError` when the peer answered with an error,
   * `WireError` for a malformed reply, `ConnectionClosedError` when the
   * connection or stream died, `TimeoutError`, `AbortedError`, `DialError`,
   * `ProtocolRefusedError`.
   */
  async request(peer: NodeId, body: unknown, options: RequestChannelOptions = {}): Promise<Res> {
    const timeout = options.timeout ?? DEFAULT_REQUEST_TIMEOUT;
    const work = (async () => {
      const conn = await this.#node.connect(peer, { signal: options.signal });
      return await this.requestOn(conn, body, options.signal, options.auth);
    })();
    return await withDeadline(work, timeout, `${this.#protocol} request to ${peer.short}`, { signal: options.signal });
  }

  /** Send over a given connection (no deadline of its own). */
  async requestOn(conn: Connection, body: unknown, signal?: AbortSignal, auth?: unknown): Promise<Res> {
    const pipe = await this.#pipe(conn, signal);
    const id = pipe.nextId++;
    const reply = deferred<unknown>();
    reply.promise.catch(() => {}); // observed below unless the write fails first
    pipe.pending.set(id, reply);
    try {
      await pipe.stream.writeMessage(
        auth === undefined ? { i: id, b: body } : { i: id, b: body, u: auth },
        this.#maxFrame,
      );
      const answer = await reply.promise;
      try {
        return validateReply(answer, this.#protocol, this.#validate);
      } catch (error) {
        if (error instanceof WireError) conn.protocolViolation(error);
        throw error;
      }
    } finally {
      pipe.pending.delete(id);
    }
  }

  #pipe(conn: Connection, signal?: AbortSignal): Promise<Pipe> {
    let pipe = this.#pipes.get(conn);
    if (!pipe) {
      pipe = this.#open(conn, signal);
      this.#pipes.set(conn, pipe);
      pipe.catch(() => this.#pipes.delete(conn));
    }
    return pipe;
  }

  async #open(conn: Connection, signal?: AbortSignal): Promise<Pipe> {
    const stream = await conn.openStream(this.#protocol, { signal });
    const pipe: Pipe = { stream, pending: new Map(), nextId: 1 };
    (async () => {
      let failure: Error = new ConnectionClosedError(`${this.#protocol} stream to ${conn.remoteId.short} ended`);
      try {
        while (true) {
          const frame = await stream.readFrame(this.#maxFrame, `${this.#protocol} reply`);
          if (frame === null) break;
          const env = decodeEnvelope(frame);
          const waiter = pipe.pending.get(env.i);
          if (!waiter) continue; // late reply of a timed-out request
          if (env.e) waiter.reject(remoteFailure(env.e, this.#protocol));
          else waiter.resolve(env.b);
        }
      } catch (error) {
        if (error instanceof WireError) {
          conn.protocolViolation(error);
          failure = error;
        } else if (conn.isClosed) {
          failure = new ConnectionClosedError(`connection to ${conn.remoteId.short} closed`);
        } else {
          failure = new ConnectionClosedError(
            `${this.#protocol} stream to ${conn.remoteId.short} failed: ${(error as Error).message}`,
          );
        }
      } finally {
        if (this.#pipes.get(conn)) this.#pipes.delete(conn);
        for (const w of pipe.pending.values()) w.reject(failure);
        pipe.pending.clear();
        stream.reset("request channel closed");
      }
    })();
    return pipe;
  }
}

/** Answers requests of one protocol; `auth` is the envelope's authorization material. */
export type RequestHandler<Req> = (from: NodeId, request: Req, auth: unknown) => unknown | Promise<unknown>;

/** Options of `serveRequests`. */
export interface ServeOptions {
  /** The stream-open gate of the protocol (coarse; per-request checks belong in the handler). */
  authorize?: HandleOptions["authorize"];
  /** Requests handled at once per stream; more wait. Default 64. */
  maxConcurrent?: number;
  maxFrame?: number;
}

/**
 * Serve `protocol` on `node`: every request body is validated with
 * `validate` (a `WireError` disconnects the peer), then answered by
 * `handler`; a thrown `MaculaError` becomes an error reply with its code,
 * any other error an `E_HANDLER` reply. Returns a function that unregisters
 * the protocol.
 *
 * @example
 * ```ts
 * import { serveRequests } from "./request-channel.ts";
 * import { uint } from "../wire/schema.ts";
 * declare const node: import("./request-channel.ts").Handler;
 * const off = serveRequests(node, "/example/double/1", uint(), (_from, n) => n * 2);
 * off();
 * ```
 */
export function serveRequests<Req>(
  node: Handler,
  protocol: string,
  validate: Validator<Req>,
  handler: RequestHandler<Req>,
  options: ServeOptions = {},
): () => void {
  const maxFrame = options.maxFrame ?? 1024 * 1024;
  const maxConcurrent = options.maxConcurrent ?? 64;
  return node.handle(protocol, async (stream) => {
    let inFlight = 0;
    const running = new Set<Promise<void>>();
    let wake: (() => void) | null = null;
    let writeTail = Promise.resolve();
    const send = (value: unknown) => {
      writeTail = writeTail.then(() => stream.writeMessage(value, maxFrame)).catch(() => {});
      return writeTail;
    };
    while (true) {
      const frame = await stream.readFrame(maxFrame, `${protocol} request`);
      if (frame === null) break;
      const { envelope: env, request } = decodeRequest(frame, protocol, validate);
      while (inFlight >= maxConcurrent) await new Promise<void>((r) => wake = r);
      inFlight++;
      const job: Promise<void> = (async () => {
        try {
          send({ i: env.i, b: await handler(stream.remoteId, request, env.u) });
        } catch (error) {
          send(errorReply(env.i, error));
        } finally {
          inFlight--;
          const resume = wake as (() => void) | null;
          wake = null;
          resume?.();
        }
      })();
      running.add(job);
      job.finally(() => running.delete(job));
    }
    // The peer half-closed: answer everything still running before closing our side.
    await Promise.all(running);
    await writeTail;
    await stream.closeWrite();
  }, { authorize: options.authorize });
}
