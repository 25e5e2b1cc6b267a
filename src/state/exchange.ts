/**
 * Running one `/macula/state/1` exchange with a peer: a new stream over the
 * open connection, a deadline, and for syncs a second chance over a fresh
 * connection when the first one carries nothing.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { ServiceHost } from "../node/service.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { TimeoutError } from "../util/async.ts";
import { STATE_PROTOCOL } from "./messages.ts";

/** How to run an exchange. */
export interface ExchangeOptions {
  /** Deadline, ms. */
  timeout: number;
  /**
   * On a timeout, close the connection (it carries nothing: e.g. it outlived
   * a partition) and run once more over a fresh one (syncs).
   */
  redial?: boolean;
  /** Connect first when not connected (else nothing happens). */
  dial?: boolean;
  /** Whether the caller still runs (no redial after it stopped). */
  alive: () => boolean;
  /** Told of a failure (the exchange's error, or a `TimeoutError`). */
  onError: (error: Error) => void;
}

/**
 * Run `exchange` on a new stream to `peer` (fire and forget; failures go to
 * `options.onError`).
 *
 * @example
 * ```ts
 * import { runExchange } from "./exchange.ts";
 * declare const host: import("../node/service.ts").ServiceHost;
 * declare const peer: import("../identity/node-id.ts").NodeId;
 * runExchange(host, peer, async (stream) => await stream.closeWrite(), {
 *   timeout: 5000,
 *   alive: () => true,
 *   onError: (e) => console.log(e.message),
 * });
 * ```
 */
export function runExchange(
  host: ServiceHost,
  peer: NodeId,
  exchange: (stream: Stream) => Promise<void>,
  options: ExchangeOptions,
): void {
  const conn = host.connection(peer);
  if (!conn) {
    if (options.dial) {
      host.connect(peer).then(() => runExchange(host, peer, exchange, { ...options, dial: false }), () => {});
    }
    return;
  }
  const attempt = async (c: Connection) => {
    const abort = new AbortController();
    let stream: Stream | undefined;
    const timer = setTimeout(() => {
      abort.abort();
      stream?.reset("state exchange timed out");
    }, options.timeout);
    try {
      stream = await c.openStream(STATE_PROTOCOL, { signal: abort.signal });
      await exchange(stream);
    } catch (error) {
      stream?.reset("state exchange failed");
      throw abort.signal.aborted ? new TimeoutError(`state exchange with ${peer.short} timed out`) : error;
    } finally {
      clearTimeout(timer);
    }
  };
  attempt(conn).catch(async (error) => {
    if (!(error instanceof TimeoutError) || !options.redial || !options.alive()) throw error;
    conn.close("state exchange timed out");
    await attempt(await host.connect(peer));
  }).catch((error) => options.onError(error as Error));
}
