/**
 * Metrics of hole punching: attempts, results by reason, and the time from
 * the first relayed contact with a peer to the adopted direct connection
 * (a summary over the last 256 upgrades: quantiles 0.5, 0.9 and 1, with
 * `_sum` and `_count`).
 *
 * @module
 */
import type { Counter, MetricsRegistry } from "../metrics/registry.ts";

const WINDOW = 256;

/** The punch service's metrics. */
export interface PunchMetrics {
  /** `macula_punch_attempts_total{role}`. */
  attempts: Counter;
  /** `macula_punch_results_total{result,reason}`. */
  results: Counter;
  /** Record one relayed→direct upgrade that took `ms`. */
  timeToDirect(ms: number): void;
  /** The recorded upgrade times, oldest first (at most 256), ms. */
  recentTimes(): number[];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Register the punch metrics on `registry`.
 *
 * @example
 * ```ts
 * import { createPunchMetrics } from "./punch-metrics.ts";
 * import { MetricsRegistry } from "../metrics/registry.ts";
 * const registry = new MetricsRegistry();
 * const m = createPunchMetrics(registry);
 * m.attempts.inc({ role: "initiator" });
 * m.results.inc({ result: "direct", reason: "ok" });
 * m.timeToDirect(850);
 * registry.render().includes("macula_punch_time_to_direct_seconds_count 1"); // true
 * ```
 */
export function createPunchMetrics(registry: MetricsRegistry): PunchMetrics {
  const times: number[] = [];
  const sum = registry.counter(
    "macula_punch_time_to_direct_seconds_sum",
    "Total seconds from first relayed contact to an adopted direct connection.",
  );
  const count = registry.counter(
    "macula_punch_time_to_direct_seconds_count",
    "Relayed peers that became direct by hole punching.",
  );
  registry.gauge(
    "macula_punch_time_to_direct_seconds",
    "Seconds from first relayed contact to an adopted direct connection (quantiles of the last 256).",
    () => {
      const sorted = [...times].sort((a, b) => a - b);
      return [0.5, 0.9, 1].map((q) => [{ quantile: String(q) }, quantile(sorted, q) / 1000]);
    },
  );
  return {
    attempts: registry.counter("macula_punch_attempts_total", "Hole-punch attempts, by role."),
    results: registry.counter(
      "macula_punch_results_total",
      "Hole-punch attempts by result (direct, failed, skipped) and reason.",
    ),
    timeToDirect(ms) {
      times.push(ms);
      if (times.length > WINDOW) times.shift();
      sum.inc({}, ms / 1000);
      count.inc();
    },
    recentTimes: () => [...times],
  };
}
