/**
 * Tunables of the membership protocol, with defaults chosen for a LAN of
 * boards: a crashed node is marked down by everyone within about 2.5–3.5 s
 * (under 4 s even when no one happens to probe it for a while), a node that
 * stalls for less than the suspicion timeout (≥ 1.6 s) is not, and 10 %
 * packet loss causes no false downs.
 *
 * @module
 */

/** SWIM / Lifeguard timings, all in ms unless noted. */
export interface SwimTimings {
  /** Time between probes of one member (scaled by the local health multiplier). Default 400. */
  probeInterval: number;
  /** Wait for a direct ack before asking others to probe (scaled by local health). Default 200. */
  probeTimeout: number;
  /** Members asked to probe indirectly when a direct probe fails (k). Default 3. */
  indirectChecks: number;
  /** Suspicion timeout floor = `suspicionMult × max(1, log10 n) × probeInterval`. Default 4. */
  suspicionMult: number;
  /** Suspicion timeout ceiling = floor × this; confirmations shrink it towards the floor. Default 3. */
  suspicionMaxMult: number;
  /** Time between gossip rounds of queued updates. Default 200. */
  gossipInterval: number;
  /** Members each gossip round (and each urgent update) goes to. Default 3. */
  gossipFanout: number;
  /** Each update is piggybacked `retransmitMult × ceil(log10(n + 1))` times. Default 4. */
  retransmitMult: number;
  /** Ceiling of the local health multiplier (Lifeguard LHM). Default 8. */
  maxLocalHealth: number;
  /** How long dead or departed members are remembered. Default 30 000. */
  deadRetention: number;
  /** Time between multicast announcements (jittered ±25 %). Default 2 000. */
  announceInterval: number;
}

/** The default timings. */
export const DEFAULT_TIMINGS: Readonly<SwimTimings> = Object.freeze({
  probeInterval: 400,
  probeTimeout: 200,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxMult: 3,
  gossipInterval: 200,
  gossipFanout: 3,
  retransmitMult: 4,
  maxLocalHealth: 8,
  deadRetention: 30_000,
  announceInterval: 2_000,
});

/**
 * The suspicion timeout floor for a cluster of `n` members.
 *
 * @example
 * ```ts
 * import { DEFAULT_TIMINGS, suspicionFloor } from "./options.ts";
 * suspicionFloor(10, DEFAULT_TIMINGS); // 1600
 * ```
 */
export function suspicionFloor(n: number, t: Pick<SwimTimings, "suspicionMult" | "probeInterval">): number {
  return Math.round(t.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * t.probeInterval);
}
