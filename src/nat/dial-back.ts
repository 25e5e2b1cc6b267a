/**
 * Dial-back (`/macula/dialback/1`): a node asks a peer to dial it at the
 * addresses the peer observes it at; the peer dials a FRESH connection
 * (`ServiceHost.probe`: not the open one, and for QUIC from a new local
 * port, so no NAT mapping the open connection made can let it through),
 * with the requester's id pinned, closes it and answers ok / failed per
 * address. A success proves the requester is publicly reachable there.
 *
 * Abuse rules (the server): only addresses on the requester's own IP (as
 * the connection shows it), never over a relayed connection, a bounded
 * number of requests per requester and per minute overall, and a bounded
 * number at once. Every refusal is a `DialbackRefusedError` for the asker.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import { parseAddress } from "../transport/address.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import type { MaculaError } from "../util/errors.ts";
import { WireError } from "../wire/errors.ts";
import {
  decodeDialbackAnswer,
  decodeDialbackRequest,
  DIALBACK_PROTOCOL,
  type DialbackAnswer,
  type DialbackResult,
  encodeDialbackAnswer,
  encodeDialbackRequest,
  MAX_DIALBACK_MESSAGE,
} from "./dial-back-messages.ts";
import { type DialbackRefusal, DialbackRefusedError } from "./errors.ts";
import { splitHostPort } from "./mapping.ts";

export { DIALBACK_PROTOCOL };

/** Limits of the dial-back server. */
export interface DialbackLimits {
  /** Requests one peer may make per minute. Default 3. */
  perPeerPerMinute?: number;
  /** Requests served per minute in all. Default 30. */
  perMinute?: number;
  /** Requests served at once. Default 4. */
  concurrent?: number;
  /** Deadline of one dial-back, ms. Default 5 000. */
  timeout?: number;
}

/** What the server needs of its node. */
export interface DialbackHost {
  /** A fresh, pinned connection, closed at once (`ServiceHost.probe`). */
  probe(
    address: ReturnType<typeof parseAddress>,
    expected: NodeId,
    options?: { signal?: AbortSignal; timeout?: number },
  ): Promise<void>;
  /** Where refusals and failures are logged (debug). */
  log: Logger;
}

const MINUTE = 60_000;

/**
 * Serves dial-back requests under the abuse rules.
 *
 * @example
 * ```ts
 * import { DialbackServer } from "./dial-back.ts";
 * import type { ServiceHost } from "../node/service.ts";
 * declare const host: ServiceHost;
 * const server = new DialbackServer(host, { perPeerPerMinute: 2 });
 * const off = host.handle("/macula/dialback/1", (stream) => server.handle(stream));
 * ```
 */
export class DialbackServer {
  readonly #host: DialbackHost;
  readonly #limits: Required<DialbackLimits>;
  readonly #byPeer = new Map<string, number[]>();
  #recent: number[] = [];
  #active = 0;
  /** Requests answered with results. */
  served = 0;
  /** Requests refused, by reason. */
  readonly refused: Record<DialbackRefusal, number> = { address: 0, rate: 0, relayed: 0 };

  /** A server dialing through `host`, within `limits`. */
  constructor(host: DialbackHost, limits: DialbackLimits = {}) {
    this.#host = host;
    this.#limits = { perPeerPerMinute: 3, perMinute: 30, concurrent: 4, timeout: 5_000, ...limits };
  }

  /** The stream handler: read one request, answer, close. */
  async handle(stream: Stream): Promise<void> {
    const conn = stream.connection;
    let request;
    try {
      const frame = await stream.readFrame(MAX_DIALBACK_MESSAGE, "dialback request");
      if (frame === null) {
        throw new WireError("E_WIRE_TRUNCATED", "dialback request", "stream ended before the request");
      }
      request = decodeDialbackRequest(frame);
    } catch (error) {
      stream.reset("bad dial-back request");
      if (error instanceof WireError) return conn.protocolViolation(error);
      throw error;
    }
    let answer: DialbackAnswer;
    try {
      this.#admit(conn, request.addrs);
      this.#active++;
      try {
        answer = { results: await this.#dialAll(conn.remoteId, request.addrs) };
        this.served++;
      } finally {
        this.#active--;
      }
    } catch (error) {
      if (!(error instanceof DialbackRefusedError)) throw error;
      this.refused[error.reason]++;
      this.#host.log.debug("dial-back refused", { peer: conn.remoteId.short, reason: error.reason });
      answer = { refused: error.reason, message: error.message };
    }
    await stream.writeFrame(encodeDialbackAnswer(answer), MAX_DIALBACK_MESSAGE);
    await stream.closeWrite();
  }

  /** Throw `DialbackRefusedError` unless the rules allow dialing `addrs` for `conn`'s peer now. */
  #admit(conn: Connection, addrs: string[]): void {
    if (conn.relayed) throw new DialbackRefusedError("relayed", "dial-back is not served over a relayed connection");
    const ip = splitHostPort(conn.remoteAddress)?.host;
    for (const addr of addrs) {
      const host = splitHostPort(addr.slice(addr.indexOf("://") + 3))?.host;
      if (!ip || host !== ip) {
        throw new DialbackRefusedError("address", `${addr} is not on your address ${ip ?? conn.remoteAddress}`);
      }
    }
    const now = Date.now();
    this.#recent = this.#recent.filter((t) => now - t < MINUTE);
    if (this.#active >= this.#limits.concurrent || this.#recent.length >= this.#limits.perMinute) {
      throw new DialbackRefusedError("rate", "too many dial-backs at this node; try later");
    }
    const key = conn.remoteId.hex;
    const mine = (this.#byPeer.get(key) ?? []).filter((t) => now - t < MINUTE);
    if (mine.length >= this.#limits.perPeerPerMinute) {
      throw new DialbackRefusedError("rate", `at most ${this.#limits.perPeerPerMinute} dial-backs a minute per peer`);
    }
    if (this.#byPeer.size > 1024) {
      for (const [k, times] of this.#byPeer) if (times.every((t) => now - t >= MINUTE)) this.#byPeer.delete(k);
    }
    mine.push(now);
    this.#byPeer.set(key, mine);
    this.#recent.push(now);
  }

  #dialAll(id: NodeId, addrs: string[]): Promise<DialbackResult[]> {
    return Promise.all(addrs.map(async (addr): Promise<DialbackResult> => {
      try {
        await this.#host.probe(parseAddress(addr), id, { timeout: this.#limits.timeout });
        return { addr, ok: true };
      } catch (error) {
        const code = (error as MaculaError)?.code;
        this.#host.log.debug("dial-back failed", { peer: id.short, addr, error: (error as Error)?.message });
        return { addr, ok: false, error: typeof code === "string" && /^[A-Z0-9_]{1,64}$/.test(code) ? code : "E_DIAL" };
      }
    }));
  }
}

/**
 * Ask the peer of `connection` to dial us back at `addrs`
 * (`quic://ip:port` / `tcp://ip:port`, on the IP that peer sees us at).
 * Resolves with a result per address. Rejects with `DialbackRefusedError`
 * when the peer refused, `ProtocolRefusedError` when it does not serve
 * dial-backs, `WireError` for a malformed answer, `AbortedError` on `signal`.
 *
 * @example
 * ```ts
 * import { requestDialback } from "./dial-back.ts";
 * declare const conn: import("../transport/connection.ts").Connection;
 * const [result] = await requestDialback(conn, ["quic://198.51.100.2:9443"]);
 * console.log(result.ok);
 * ```
 */
export async function requestDialback(
  connection: Connection,
  addrs: string[],
  options: { signal?: AbortSignal } = {},
): Promise<DialbackResult[]> {
  const stream = await connection.openStream(DIALBACK_PROTOCOL, { signal: options.signal });
  const abort = () => stream.reset("dial-back cancelled");
  options.signal?.addEventListener("abort", abort, { once: true });
  try {
    await stream.writeFrame(encodeDialbackRequest({ addrs }), MAX_DIALBACK_MESSAGE);
    await stream.closeWrite();
    const frame = await stream.readFrame(MAX_DIALBACK_MESSAGE, "dialback answer");
    if (frame === null) throw new WireError("E_WIRE_TRUNCATED", "dialback answer", "stream ended before the answer");
    const answer = decodeDialbackAnswer(frame);
    if ("refused" in answer) throw new DialbackRefusedError(answer.refused, answer.message);
    if (answer.results.length !== addrs.length || answer.results.some((r, i) => r.addr !== addrs[i])) {
      throw new WireError("E_WIRE_INVALID", "dialback answer", "results do not match the request");
    }
    return answer.results;
  } catch (error) {
    stream.reset("dial-back failed");
    if (error instanceof WireError) connection.protocolViolation(error);
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", abort);
  }
}
