/**
 * One hole-punch attempt over an existing connection (`/macula/punch/1`,
 * see `punch-messages.ts`), for each side. The initiator picks a fresh
 * local port Pa and sends its candidates (public IP with Pa, its
 * listening address, local addresses); the responder opens a punch
 * endpoint on a fresh port Pb right after pre-opening its NAT towards
 * those candidates (TTL-2 datagrams), and answers with its own; the
 * initiator pre-opens towards them, binds Pa, measures the round trip,
 * sends SYNC and dials every candidate RTT/2 later, while the responder
 * dials on SYNC. Whichever connection completes first is handed to the
 * node, which prefers it over the relayed one. The attempt succeeded when
 * the node's connection to the peer is direct before the deadline.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { SocketAddress } from "../platform/types.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import type { PunchEndpoint, PunchEndpointOptions } from "../transport/quic-punch.ts";
import { sleep, withDeadline } from "../util/async.ts";
import { WireError } from "../wire/errors.ts";
import {
  decodePunch,
  encodePunch,
  MAX_PUNCH_FRAME,
  PUNCH_PROTOCOL,
  type PunchMessage,
  type SkipReason,
} from "./punch-messages.ts";
import type { MappingType } from "./mapping.ts";
import { isDialableCandidate } from "./punch-self.ts";

/** What punching needs of the QUIC link (`QuicTransport` has it). */
export interface PunchLink {
  /** A free local UDP port for a later `punchEndpoint`. */
  pickPunchPort(): Promise<number>;
  /** A punch endpoint (see `QuicTransport.punchEndpoint`). */
  punchEndpoint(options: PunchEndpointOptions): Promise<PunchEndpoint>;
}

/**
 * How an attempt ended: `direct` (the node now has a direct connection),
 * `failed` (it does not, `reason` says where it stopped) or `skipped`
 * (one side declined, `reason` says why).
 */
export interface AttemptResult {
  /** How it ended. */
  result: "direct" | "failed" | "skipped";
  /**
   * `ok`, a `SkipReason`, or a failure: `timeout` (no direct connection by
   * the deadline), `port-unavailable`, `protocol-refused` (the peer does
   * not punch), `connection-closed` (the connection it ran over closed, or
   * the service stopped), `stream-error`, `protocol-error`.
   */
  reason: string;
  /** Round trip of the CONNECT exchange, ms (initiator, when measured). */
  rtt?: number;
  /** Duration of the attempt, ms. */
  ms: number;
}

/** What an attempt needs from its service. */
export interface AttemptContext {
  link: PunchLink;
  /** The peer. */
  peer: NodeId;
  /** Our candidates for a punch endpoint on `port`. */
  candidates(port: number): SocketAddress[];
  /** Our NAT mapping, as far as known. */
  mapping(): MappingType;
  /** Is the node's connection to the peer direct now? */
  isDirect(): boolean;
  /** Deadline of the exchange and of the dials after SYNC, ms. */
  timeout: number;
  /** Stops the exchange (e.g. the connection it runs over closed). */
  signal?: AbortSignal;
  /**
   * Stops the dials and the wait for a direct connection. Not the end of
   * the connection the exchange ran over: the peer may retire it as soon as
   * it has the direct one, before ours is adopted.
   */
  stop?: AbortSignal;
}

async function readMessage(stream: Stream, timeout: number, signal?: AbortSignal): Promise<PunchMessage | null> {
  const frame = await withDeadline(stream.readFrame(MAX_PUNCH_FRAME, "punch"), timeout, "punch message", { signal });
  return frame === null ? null : decodePunch(frame);
}

function writeMessage(stream: Stream, message: PunchMessage): Promise<void> {
  return stream.writeFrame(encodePunch(message), MAX_PUNCH_FRAME);
}

/** Dial every candidate from `ep` at once; the first success stops the others. Never rejects. */
async function dialCandidates(
  ep: PunchEndpoint,
  targets: SocketAddress[],
  ctx: AttemptContext,
): Promise<Connection | null> {
  if (targets.length === 0) return null;
  const stop = new AbortController();
  const signal = ctx.stop ? AbortSignal.any([ctx.stop, stop.signal]) : stop.signal;
  try {
    return await Promise.any(targets.map((t) => ep.dial(t, ctx.peer, { timeout: ctx.timeout, signal })));
  } catch {
    return null;
  } finally {
    stop.abort();
  }
}

/** Poll until the node's connection to the peer is direct, or `ms` passed. */
async function waitDirect(ctx: AttemptContext, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!ctx.isDirect()) {
    if (performance.now() >= until || ctx.stop?.aborted) return ctx.isDirect();
    await sleep(25);
  }
  return true;
}

/**
 * Both sides, after SYNC: dial (the responder at once, the initiator after
 * `delay`) and wait for a direct connection. The peer's dial may win
 * instead of ours (it arrives on our endpoint, possibly a retransmit
 * later): either one makes the node direct, so wait for the node, not for
 * our dial.
 */
async function dialAndWait(ep: PunchEndpoint, peerAddrs: SocketAddress[], delay: number, ctx: AttemptContext) {
  if (delay > 0) await sleep(delay, ctx.stop).catch(() => {});
  void dialCandidates(ep, peerAddrs, ctx);
  return await waitDirect(ctx, ctx.timeout + 1_000);
}

function failure(error: unknown): string {
  if (error instanceof WireError) return "protocol-error";
  const e = error as { code?: string; name?: string };
  if (e?.code === "E_PROTOCOL_REFUSED") return "protocol-refused";
  if (e?.name === "TimeoutError") return "timeout";
  if (e?.name === "AbortedError" || e?.code === "E_CONNECTION_CLOSED") return "connection-closed";
  if (e?.code === "E_DIAL_FAILED" && /punch endpoint/.test(String((error as Error).message))) return "port-unavailable";
  return "stream-error";
}

/**
 * Run attempt `n` as the initiator over `conn`.
 *
 * @example
 * ```ts
 * import { initiatePunch } from "./punch-attempt.ts";
 * declare const conn: import("../transport/connection.ts").Connection;
 * declare const ctx: import("./punch-attempt.ts").AttemptContext;
 * const { result, reason } = await initiatePunch(conn, 1, ctx);
 * ```
 */
export async function initiatePunch(conn: Connection, n: number, ctx: AttemptContext): Promise<AttemptResult> {
  const started = performance.now();
  const done = (result: AttemptResult["result"], reason: string, rtt?: number): AttemptResult => ({
    result,
    reason,
    rtt,
    ms: Math.round(performance.now() - started),
  });
  let stream: Stream | undefined;
  let ep: PunchEndpoint | undefined;
  try {
    const port = await ctx.link.pickPunchPort();
    stream = await conn.openStream(PUNCH_PROTOCOL, { signal: ctx.signal, timeout: ctx.timeout });
    const sent = performance.now();
    await writeMessage(stream, { t: "connect", addrs: ctx.candidates(port), nat: ctx.mapping(), n });
    const reply = await readMessage(stream, ctx.timeout, ctx.signal);
    const rtt = performance.now() - sent;
    if (reply === null) return done("failed", "stream-error");
    if (reply.t === "skip") return done("skipped", reply.reason);
    if (reply.t !== "connect") throw new WireError("E_WIRE_INVALID", "punch", `expected connect, got ${reply.t}`);
    const theirs = reply.addrs.filter(isDialableCandidate);
    ep = await ctx.link.punchEndpoint({ port, preopen: theirs });
    await writeMessage(stream, { t: "sync", n });
    await stream.closeWrite();
    const direct = await dialAndWait(ep, theirs, rtt / 2, ctx);
    return done(direct ? "direct" : "failed", direct ? "ok" : "timeout", Math.round(rtt));
  } catch (error) {
    stream?.reset("punch failed");
    if (error instanceof WireError) conn.protocolViolation(error);
    return done("failed", failure(error));
  } finally {
    ep?.settle();
  }
}

/**
 * Answer an attempt as the responder on `stream` (opened by the peer).
 * `decline` says why not to punch now, given the peer's NAT mapping, or
 * `null` to go ahead.
 *
 * @example
 * ```ts
 * import { respondPunch } from "./punch-attempt.ts";
 * declare const stream: import("../transport/connection.ts").Stream;
 * declare const ctx: import("./punch-attempt.ts").AttemptContext;
 * await respondPunch(stream, ctx, () => null);
 * ```
 */
export async function respondPunch(
  stream: Stream,
  ctx: AttemptContext,
  decline: (peerNat: MappingType) => SkipReason | null,
): Promise<AttemptResult> {
  const started = performance.now();
  const done = (result: AttemptResult["result"], reason: string): AttemptResult => ({
    result,
    reason,
    ms: Math.round(performance.now() - started),
  });
  let ep: PunchEndpoint | undefined;
  try {
    const hello = await readMessage(stream, ctx.timeout, ctx.signal);
    if (hello === null) return done("failed", "stream-error");
    if (hello.t !== "connect") throw new WireError("E_WIRE_INVALID", "punch", `expected connect, got ${hello.t}`);
    const why = decline(hello.nat);
    if (why) {
      await writeMessage(stream, { t: "skip", reason: why });
      await stream.closeWrite();
      return done("skipped", why);
    }
    const theirs = hello.addrs.filter(isDialableCandidate);
    ep = await ctx.link.punchEndpoint({ port: 0, preopen: theirs });
    await writeMessage(stream, { t: "connect", addrs: ctx.candidates(ep.port), nat: ctx.mapping(), n: hello.n });
    const sync = await readMessage(stream, ctx.timeout, ctx.signal);
    if (sync === null) return done("failed", "stream-error");
    if (sync.t !== "sync") throw new WireError("E_WIRE_INVALID", "punch", `expected sync, got ${sync.t}`);
    await stream.closeWrite();
    const direct = await dialAndWait(ep, theirs, 0, ctx);
    return done(direct ? "direct" : "failed", direct ? "ok" : "timeout");
  } catch (error) {
    stream.reset("punch failed");
    if (error instanceof WireError) stream.connection.protocolViolation(error);
    return done("failed", failure(error));
  } finally {
    ep?.settle();
  }
}
