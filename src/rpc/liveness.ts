/**
 * The liveness watch of one RPC attempt: the per-attempt deadline adapts
 * to the provider's measured round-trip time instead of being a flat
 * second. Once a reply is overdue (`max(floor, k × RTT)`), the provider is
 * pinged; a ping that fails within its own RTT-based deadline means the
 * connection is dead (e.g. the provider restarted and this node still
 * holds the old connection), and the attempt is given up at once so the
 * call fails over. A slow handler on a live link answers the ping and
 * keeps its attempt, probed again each period.
 *
 * @module
 */

/** Tunables of the watch. */
export interface LivenessOptions {
  /** The provider's smoothed round-trip time, ms, if measured. */
  rtt?: number;
  /** Ping the provider; resolves with the RTT, rejects when it does not answer. */
  ping(signal: AbortSignal): Promise<number>;
  /** The provider did not answer its liveness ping. */
  onDead(reason: string): void;
  /** Shortest wait before a reply counts as overdue, ms. Default 150. */
  floor?: number;
  /** Overdue after this many RTTs (if larger than `floor`). Default 8. */
  factor?: number;
}

/** Overdue time when the provider's round-trip time was never measured, ms. */
export const UNMEASURED_OVERDUE = 500;

/**
 * How long a reply (or a ping) may take from a provider with round-trip
 * time `rtt` before it is probed (`UNMEASURED_OVERDUE` if not measured).
 */
export function overdueAfter(rtt: number | undefined, floor = 150, factor = 8): number {
  return Math.max(floor, rtt === undefined ? UNMEASURED_OVERDUE : factor * rtt);
}

/**
 * Watch one attempt; returns the function that stops the watch (call it
 * when the attempt settles).
 *
 * @example
 * ```ts
 * import { watchAttempt } from "./liveness.ts";
 * declare const ping: (signal: AbortSignal) => Promise<number>;
 * const attempt = new AbortController();
 * const stop = watchAttempt({ rtt: 2, ping, onDead: (why) => attempt.abort(why) });
 * stop();
 * ```
 */
export function watchAttempt(options: LivenessOptions): () => void {
  const period = overdueAfter(options.rtt, options.floor, options.factor);
  const stopped = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const probe = async () => {
    const signal = AbortSignal.any([stopped.signal, AbortSignal.timeout(period)]);
    try {
      await options.ping(signal);
    } catch (error) {
      if (stopped.signal.aborted) return;
      options.onDead(`no answer to a liveness ping within ${period} ms (${(error as Error)?.message ?? error})`);
      return;
    }
    if (!stopped.signal.aborted) timer = setTimeout(probe, period);
  };
  timer = setTimeout(probe, period);
  return () => {
    clearTimeout(timer);
    stopped.abort();
  };
}
