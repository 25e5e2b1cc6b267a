/**
 * The listener's side of a QUIC handshake: admit it (`HandshakeGate`),
 * wait for TLS, challenge the client for its identity proof
 * (`quic-auth.ts`), all under one deadline. A client that opens a stream
 * before its proof was accepted is refused like one with a bad proof: the
 * connection is closed (code 1, "authentication failed") and no stream of
 * it is ever handed on.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { QuicBidiStream, QuicConnection } from "../platform/types.ts";
import { deferred, withDeadline } from "../util/async.ts";
import { hostPort } from "./address.ts";
import { HandshakeError } from "./errors.ts";
import { type HandshakeGate, isTimeout } from "./handshake-gate.ts";
import { authenticateClient, sendVerdict, verdictReceived } from "./quic-auth.ts";
import { type IncomingStreams, QUIC_CLOSE } from "./quic-session.ts";
import { QuicByteStream } from "./quic-stream.ts";
import type { TransportKind } from "./session.ts";
import type { TransportContext } from "./transport.ts";

/** Options of `acceptClient`. */
export interface AcceptClientOptions {
  /** The node's context: identity, and where refusals and failures are reported. */
  ctx: TransportContext;
  /** The listener's admission gate. */
  gate: HandshakeGate;
  /** Deadline of the whole handshake (TLS and proof), ms. */
  budget: number;
  /** The transport's name, for reports. */
  kind: TransportKind;
}

/** An authenticated inbound connection. */
export interface AcceptedClient {
  /** The connection, TLS done and the client's id proven. */
  conn: QuicConnection;
  /** The client's proven id. */
  remoteId: NodeId;
  /** The streams the client opens from now on. */
  incoming: IncomingStreams;
}

const NO_SLOT = { release() {} };

function closeQuietly(conn: QuicConnection, closeCode: number, reason: string): void {
  try {
    conn.close({ closeCode, reason });
  } catch {
    // already closed
  }
}

/**
 * Run the listener's side of the handshake of `connecting` (a connection
 * whose TLS handshake is under way). Resolves with the authenticated
 * client, or `null` when it was refused or failed (then the connection is
 * closed and the context was told why). Never rejects.
 *
 * @example
 * ```ts
 * import { acceptClient } from "./quic-accept.ts";
 * import { HandshakeGate } from "./handshake-gate.ts";
 * declare const ctx: import("./transport.ts").TransportContext;
 * declare const connecting: Promise<import("../platform/types.ts").QuicConnection>;
 * const gate = new HandshakeGate({ maxPending: 128, maxPendingPerSource: 8 });
 * const client = await acceptClient(connecting, { ctx, gate, budget: 5_000, kind: "quic" });
 * if (client) console.log(client.remoteId.did);
 * ```
 */
export async function acceptClient(
  connecting: Promise<QuicConnection>,
  options: AcceptClientOptions,
): Promise<AcceptedClient | null> {
  const { ctx, gate, budget, kind } = options;
  const first = gate.enter("unknown");
  if (typeof first === "string") {
    connecting.then((c) => closeQuietly(c, QUIC_CLOSE.normal, "busy"), () => {});
    ctx.onHandshakeRefused?.(first, "unknown", kind);
    return null;
  }
  let slot = first;
  const started = performance.now();
  let conn: QuicConnection | undefined;
  let remote = "unknown";
  try {
    conn = await withDeadline(connecting, budget, "QUIC handshake", {
      onLate: (c) => closeQuietly(c, QUIC_CLOSE.normal, "handshake timeout"),
    });
    remote = hostPort(conn.remoteAddr);
    const moved = gate.identify(slot, remote);
    if (typeof moved === "string") {
      slot = NO_SLOT;
      closeQuietly(conn, QUIC_CLOSE.normal, "busy");
      ctx.onHandshakeRefused?.(moved, remote, kind);
      return null;
    }
    slot = moved;
    const remaining = Math.max(1, budget - (performance.now() - started));
    const { remoteId, incoming } = await withDeadline(
      authenticate(conn, ctx.localId),
      remaining,
      "QUIC client authentication",
    );
    return { conn, remoteId, incoming };
  } catch (error) {
    if (conn) closeQuietly(conn, QUIC_CLOSE.authFailed, "authentication failed");
    if (isTimeout(error)) ctx.onHandshakeRefused?.("deadline", remote, kind);
    ctx.onHandshakeError?.(error as Error, remote);
    return null;
  } finally {
    slot.release();
  }
}

/**
 * Challenge the client on a stream we open and verify its proof, while
 * watching for streams the client opens: one that arrives before the proof
 * verified fails the handshake. After that, the first stream read (still
 * pending) is handed on with the rest.
 */
async function authenticate(
  conn: QuicConnection,
  serverId: NodeId,
): Promise<{ remoteId: NodeId; incoming: IncomingStreams }> {
  const reader = conn.incomingBidirectionalStreams.getReader();
  let verified = false;
  const early = reader.read();
  const violation = deferred<never>();
  violation.promise.catch(() => {});
  early.then((result) => {
    if (!verified && !result.done) {
      violation.reject(new HandshakeError("client opened a stream before its identity proof was accepted"));
    }
  }, () => {});
  const auth = new QuicByteStream(await Promise.race([conn.createBidirectionalStream(), violation.promise]));
  auth.closed.then(() => {}, () => {});
  const remoteId = await Promise.race([authenticateClient(auth, serverId), violation.promise]);
  verified = true;
  await sendVerdict(auth);
  await verdictReceived(auth);
  let pending: Promise<ReadableStreamReadResult<QuicBidiStream>> | null = early;
  return {
    remoteId,
    incoming: {
      read() {
        const next = pending ?? reader.read();
        pending = null;
        return next;
      },
    },
  };
}
