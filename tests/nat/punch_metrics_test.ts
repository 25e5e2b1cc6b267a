/** The punch metrics render as Prometheus text: counters, and the time-to-direct summary over the last 256. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { createPunchMetrics } from "../../src/nat/punch-metrics.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";

Deno.test("punch metrics: attempts, results by reason, time to direct (quantiles, sum, count)", () => {
  const registry = new MetricsRegistry();
  const m = createPunchMetrics(registry);
  m.attempts.inc({ role: "initiator" });
  m.results.inc({ result: "failed", reason: "timeout" });
  m.results.inc({ result: "direct", reason: "ok" });
  for (const ms of [100, 200, 300, 400]) m.timeToDirect(ms);
  const text = registry.render();
  assert(text.includes('macula_punch_attempts_total{role="initiator"} 1'), text);
  assert(text.includes('macula_punch_results_total{reason="timeout",result="failed"} 1'), text);
  assert(text.includes('macula_punch_time_to_direct_seconds{quantile="0.5"} 0.2'), text);
  assert(text.includes('macula_punch_time_to_direct_seconds{quantile="1"} 0.4'), text);
  assert(text.includes("macula_punch_time_to_direct_seconds_sum 1"), text);
  assert(text.includes("macula_punch_time_to_direct_seconds_count 4"), text);
  for (let i = 0; i < 300; i++) m.timeToDirect(1);
  assertEquals(m.recentTimes().length, 256);
});
