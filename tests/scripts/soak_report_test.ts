import { assertEquals } from "../helpers/assert.ts";
import {
  accountSubscriber,
  classifyLog,
  failoverTime,
  firstAfter,
  percentile,
  rssAccount,
  summarize,
  widen,
} from "../../scripts/soak/report.ts";

Deno.test("soak report: percentiles are nearest-rank, and empty samples give null", () => {
  const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assertEquals(percentile(values, 0.5), 5);
  assertEquals(percentile(values, 0.99), 10);
  assertEquals(percentile(values, 0), 1);
  assertEquals(percentile([42], 0.99), 42);
  assertEquals(percentile([], 0.5), null);
  assertEquals(summarize([3, 1, 2]), { n: 3, p50: 2, p99: 3, max: 3 });
  assertEquals(summarize([]), { n: 0, p50: null, p99: null, max: null });
  assertEquals(values, [5, 1, 4, 2, 3, 10, 9, 8, 7, 6], "the input is not sorted in place");
});

Deno.test("soak report: a subscriber's misses are split into down, partitioned and up", () => {
  // Seq k published at k * 10 ms, for k = 1..100.
  const publishedAt = Array.from({ length: 100 }, (_, i) => (i + 1) * 10);
  const received = new Array<number>(100).fill(1);
  for (let s = 11; s <= 20; s++) received[s - 1] = 0; // t 110-200: down
  for (let s = 41; s <= 45; s++) received[s - 1] = 0; // t 410-450: partitioned
  for (let s = 60; s <= 62; s++) received[s - 1] = 0; // t 600-620: up, recovering
  received[89] = 0; // seq 90, t 900: up, steady
  received[94] = 3; // seq 95 three times: two duplicates
  const account = accountSubscriber({
    publishedAt,
    receivedCount: received,
    down: [{ start: 105, end: 205 }],
    pathDown: [{ start: 400, end: 460 }],
    recovering: [{ start: 205, end: 300 }, { start: 590, end: 700 }],
  });
  assertEquals(account, {
    published: 100,
    received: 81,
    duplicates: 2,
    missedWhileDown: 10,
    missedWhilePartitioned: 5,
    missedWhileUp: 4,
    missedWhileUpRecovering: 3,
    missedUpRuns: [[60, 62, 600], [90, 90, 900]],
  });
});

Deno.test("soak report: down wins over partitioned; missing counts (sparse arrays) are misses", () => {
  const publishedAt = [10, 20, 30, 40];
  const received: number[] = [];
  received[3] = 1; // only seq 4 arrived; seqs 1-3 are holes in the array
  const account = accountSubscriber({
    publishedAt,
    receivedCount: received,
    down: [{ start: 0, end: 15 }],
    pathDown: [{ start: 0, end: 25 }],
    recovering: [],
  });
  assertEquals(
    [account.received, account.missedWhileDown, account.missedWhilePartitioned, account.missedWhileUp],
    [1, 1, 1, 1],
  );
  assertEquals(account.missedUpRuns, [[3, 3, 30]]);
});

Deno.test("soak report: intervals are half-open, and widen moves their ends", () => {
  const account = accountSubscriber({
    publishedAt: [100, 200],
    receivedCount: [0, 0],
    down: widen([{ start: 150, end: 200 }], 50),
    pathDown: [],
    recovering: [],
  });
  assertEquals([account.missedWhileDown, account.missedWhileUp], [1, 1], "t=100 is in [100, 200), t=200 is not");
  assertEquals(widen([{ start: 10, end: 20 }], 5, 3), [{ start: 5, end: 23 }]);
});

Deno.test("soak report: failover time runs to the end of the last failed or slow call after the kill", () => {
  const kill = 1_000;
  const calls = [
    { t0: 900, t1: 905, ok: true }, // before: ignored
    { t0: 950, t1: 1_950, ok: true }, // in flight at the kill, slow: counts
    { t0: 1_100, t1: 1_600, ok: false }, // failed
    { t0: 1_200, t1: 1_210, ok: true },
    { t0: 20_000, t1: 29_000, ok: false }, // outside the window
  ];
  assertEquals(failoverTime(kill, calls, 200, 15_000), 950);
  assertEquals(failoverTime(kill, calls.filter((c) => c.ok && c.t1 - c.t0 < 200), 200, 15_000), 0);
  assertEquals(failoverTime(kill, [{ t0: 1_100, t1: 1_600, ok: false }], 200, 15_000), 600);
});

Deno.test("soak report: first event after ready", () => {
  assertEquals(firstAfter(1_000, [500, 1_700, 1_300]), 300);
  assertEquals(firstAfter(1_000, [500]), null);
  assertEquals(firstAfter(1_000, [5_000], 2_000), null);
});

Deno.test("soak report: RSS max and growth from the first to the last minute", () => {
  const samples = [
    { t: 0, rss: 999 }, // before the run
    { t: 10_000, rss: 100 },
    { t: 30_000, rss: 110 },
    { t: 100_000, rss: 150 },
    { t: 170_000, rss: 140 },
    { t: 175_000, rss: 160 },
    { t: 190_000, rss: 999 }, // after the run
  ];
  assertEquals(rssAccount(samples, 5_000, 180_000), { max: 160, firstMinute: 100, lastMinute: 140, growth: 40 });
  assertEquals(rssAccount([], 0, 1), { max: null, firstMinute: null, lastMinute: null, growth: null });
});

Deno.test("soak report: node log lines are classified", () => {
  assertEquals(classifyLog({ level: "warn", msg: "peer violated the wire protocol; disconnecting" }), "violation");
  assertEquals(classifyLog({ level: "error", msg: "boom" }), "error");
  assertEquals(classifyLog({ level: "warn", msg: "stream handler failed" }), "handler");
  assertEquals(classifyLog({ level: "info", msg: "peer connected" }), null);
});
