/**
 * Pure accounting of the soak run (`deno task soak`): which published
 * messages each subscriber missed and why (while it was down, while its path
 * to the publisher was partitioned, or while it was up), percentiles,
 * RPC failover times and RSS growth. No I/O here, so it is unit-tested in
 * `tests/scripts/soak_report_test.ts`.
 *
 * Times are milliseconds on one clock (all nodes run on one machine).
 *
 * @module
 */

/** A half-open time interval `[start, end)` in ms. */
export interface Interval {
  start: number;
  end: number;
}

/** Whether `t` lies in one of `intervals`. */
export function inAny(t: number, intervals: readonly Interval[]): boolean {
  for (const i of intervals) if (t >= i.start && t < i.end) return true;
  return false;
}

/** The `p` quantile (0..1, nearest rank) of `values`, or null if there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Count, p50, p99 and max of a sample (nulls when empty). */
export interface Summary {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Summarise a sample. */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 0.5),
    p99: percentile(values, 0.99),
    max: values.length ? values.reduce((a, b) => Math.max(a, b), -Infinity) : null,
  };
}

/** What one subscriber got of the published sequence. */
export interface SubscriberInput {
  /** `publishedAt[i]` is when seq `i + 1` was published. */
  publishedAt: readonly number[];
  /** `receivedCount[i]` is how many times seq `i + 1` was received (over all incarnations). */
  receivedCount: ArrayLike<number>;
  /** When the subscriber was not live (killed → ready again), widened by the in-flight grace. */
  down: readonly Interval[];
  /** When its path to the publisher was cut (partition), widened likewise. */
  pathDown: readonly Interval[];
  /** Windows after a restart or heal, for the diagnostic split of misses while up. */
  recovering: readonly Interval[];
}

/** One subscriber's account. */
export interface SubscriberAccount {
  published: number;
  received: number;
  /** Messages received more than once (extra copies). */
  duplicates: number;
  missedWhileDown: number;
  missedWhilePartitioned: number;
  /** The goal is 0. */
  missedWhileUp: number;
  /** Of `missedWhileUp`, those published in a recovering window (after a restart or heal). */
  missedWhileUpRecovering: number;
  /** Up to 10 runs of consecutive seqs missed while up: `[first, last, publishedAt of first]`. */
  missedUpRuns: Array<[number, number, number]>;
}

/** Classify every published seq for one subscriber: received, or missed while down / partitioned / up. */
export function accountSubscriber(input: SubscriberInput): SubscriberAccount {
  const out: SubscriberAccount = {
    published: input.publishedAt.length,
    received: 0,
    duplicates: 0,
    missedWhileDown: 0,
    missedWhilePartitioned: 0,
    missedWhileUp: 0,
    missedWhileUpRecovering: 0,
    missedUpRuns: [],
  };
  let run: [number, number, number] | null = null;
  const closeRun = () => {
    if (run && out.missedUpRuns.length < 10) out.missedUpRuns.push(run);
    run = null;
  };
  for (let i = 0; i < input.publishedAt.length; i++) {
    const seq = i + 1;
    const count = input.receivedCount[i] ?? 0;
    const t = input.publishedAt[i];
    if (count > 0) {
      out.received++;
      out.duplicates += count - 1;
      closeRun();
      continue;
    }
    if (inAny(t, input.down)) {
      out.missedWhileDown++;
      closeRun();
    } else if (inAny(t, input.pathDown)) {
      out.missedWhilePartitioned++;
      closeRun();
    } else {
      out.missedWhileUp++;
      if (inAny(t, input.recovering)) out.missedWhileUpRecovering++;
      if (run && run[1] === seq - 1) run[1] = seq;
      else {
        closeRun();
        run = [seq, seq, t];
      }
    }
  }
  closeRun();
  return out;
}

/** One RPC call as the caller saw it. */
export interface CallRecord {
  /** Start and end, ms. */
  t0: number;
  t1: number;
  ok: boolean;
}

/**
 * Failover time after a provider kill at `kill`: from the kill to the end
 * of the last "bad" call (failed, or slower than `slowMs`) started in
 * `[kill, kill + windowMs)`; 0 if there was none (the caller never noticed).
 */
export function failoverTime(kill: number, calls: readonly CallRecord[], slowMs: number, windowMs: number): number {
  let last = kill;
  for (const c of calls) {
    if (c.t1 < kill || c.t0 >= kill + windowMs) continue;
    // A call in flight at the kill counts too: it may have been routed to the dead provider.
    if (!c.ok || c.t1 - c.t0 > slowMs) last = Math.max(last, c.t1);
  }
  return last - kill;
}

/** The delay from `ready` to the first of `times` at or after it, or null if there is none before `until`. */
export function firstAfter(ready: number, times: readonly number[], until = Infinity): number | null {
  let best: number | null = null;
  for (const t of times) if (t >= ready && t < until && (best === null || t < best)) best = t;
  return best === null ? null : best - ready;
}

/** One RSS sample. */
export interface RssSample {
  t: number;
  rss: number;
}

/** Max RSS, and the median of the first vs last minute of samples (growth = last − first). */
export interface RssAccount {
  max: number | null;
  firstMinute: number | null;
  lastMinute: number | null;
  growth: number | null;
}

/** RSS figures of one node over `[start, end]` (minutes overlap on runs shorter than 2 min). */
export function rssAccount(samples: readonly RssSample[], start: number, end: number): RssAccount {
  const inRun = samples.filter((s) => s.t >= start && s.t <= end);
  if (inRun.length === 0) return { max: null, firstMinute: null, lastMinute: null, growth: null };
  const first = percentile(inRun.filter((s) => s.t < start + 60_000).map((s) => s.rss), 0.5);
  const last = percentile(inRun.filter((s) => s.t > end - 60_000).map((s) => s.rss), 0.5);
  return {
    max: inRun.reduce((m, s) => Math.max(m, s.rss), 0),
    firstMinute: first,
    lastMinute: last,
    growth: first !== null && last !== null ? last - first : null,
  };
}

/** Widen each interval by `before` ms at its start and `after` ms at its end. */
export function widen(intervals: readonly Interval[], before: number, after = 0): Interval[] {
  return intervals.map((i) => ({ start: i.start - before, end: i.end + after }));
}

/**
 * What a node log line (JSON logger output) reports: a protocol violation, an
 * error (level `error`, or an uncaught error), a failed stream or
 * subscription handler (counted, but expected when a peer dies mid-stream),
 * or nothing of note.
 */
export function classifyLog(line: { level?: unknown; msg?: unknown }): "violation" | "error" | "handler" | null {
  const msg = String(line.msg ?? "");
  if (/violat/i.test(msg)) return "violation";
  if (line.level === "error" || /uncaught|unhandled/i.test(msg)) return "error";
  if (/handler failed/i.test(msg)) return "handler";
  return null;
}
