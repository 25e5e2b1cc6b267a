/**
 * The console's charts: one sampler per node, every second, into a ring
 * buffer of 600 points (10 minutes): pub/sub messages/s, bytes/s, open
 * connections and the process's RSS, read from the node's own metrics
 * registry and the platform.
 *
 * @module
 */
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { ConsoleSeries } from "./protocol.ts";

/** At most this many points (one a second: 10 minutes). */
export const SERIES_POINTS = 600;

/** The pub/sub counters summed into "messages" (published here + delivered here). */
const MESSAGE_COUNTERS = ["macula_pubsub_published_total", "macula_pubsub_delivered_total"];
/** Counters of bytes moved over connections (content, relay circuits, cluster datagrams). */
const BYTES = /^macula_.*bytes.*_total$/;

/** Options of `SeriesSampler`. */
export interface SeriesOptions {
  /** The node's metrics registry. */
  metrics: MetricsRegistry;
  /** The process's resident set size in bytes (0 when unknown). */
  rss: () => number;
  /** Sampling interval, ms (default 1000). */
  interval?: number;
  /** Points kept (default 600). */
  points?: number;
  /**
   * Stop sampling this long (ms) after the last `touch()`; `undefined`
   * (the default) samples for as long as it is started.
   */
  idleStop?: number;
}

/**
 * Samples the node's metrics once a second into fixed-size rings while
 * started; `series()` copies them out, oldest first.
 *
 * @example
 * ```ts
 * import { SeriesSampler } from "./series.ts";
 * import { MetricsRegistry } from "../metrics/registry.ts";
 * const sampler = new SeriesSampler({ metrics: new MetricsRegistry(), rss: () => 0 });
 * sampler.sample(Date.now());
 * sampler.series().t.length; // 1
 * ```
 */
export class SeriesSampler {
  #o: Required<Omit<SeriesOptions, "idleStop">> & Pick<SeriesOptions, "idleStop">;
  #touched = 0;
  #t: Float64Array;
  #msgs: Float64Array;
  #bytes: Float64Array;
  #connections: Float64Array;
  #rss: Float64Array;
  #next = 0;
  #count = 0;
  #last?: { at: number; msgs: number; bytes: number };
  #timer?: ReturnType<typeof setInterval>;

  /** A sampler reading `options.metrics` and `options.rss`; call `start()` to sample on a timer. */
  constructor(options: SeriesOptions) {
    this.#o = { ...options, interval: options.interval ?? 1000, points: options.points ?? SERIES_POINTS };
    const n = this.#o.points;
    this.#t = new Float64Array(n);
    this.#msgs = new Float64Array(n);
    this.#bytes = new Float64Array(n);
    this.#connections = new Float64Array(n);
    this.#rss = new Float64Array(n);
  }

  /** Whether the timer runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Sample now and then every `interval` ms (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample(Date.now());
    this.#timer = setInterval(() => {
      const now = Date.now();
      this.sample(now);
      if (this.#o.idleStop !== undefined && now - this.#touched > this.#o.idleStop) this.stop();
    }, this.#o.interval);
  }

  /** Someone looks at the series: start sampling if stopped (see `idleStop`). */
  touch(): void {
    this.#touched = Date.now();
    this.start();
  }

  /** Stop the timer (the points stay). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Take one point at `at` (ms since the epoch). */
  sample(at: number): void {
    const registry = this.#o.metrics;
    let msgs = 0;
    for (const name of MESSAGE_COUNTERS) msgs += registry.find(name)?.total() ?? 0;
    let bytes = 0;
    for (const m of registry.list()) if (m.type === "counter" && BYTES.test(m.name)) bytes += m.total();
    const last = this.#last;
    const dt = last ? (at - last.at) / 1000 : 0;
    const i = this.#next;
    this.#t[i] = at;
    this.#msgs[i] = dt > 0 ? Math.max(0, Math.round((msgs - last!.msgs) / dt * 100) / 100) : 0;
    this.#bytes[i] = dt > 0 ? Math.max(0, Math.round((bytes - last!.bytes) / dt)) : 0;
    this.#connections[i] = registry.find("macula_peers")?.total() ?? 0;
    this.#rss[i] = this.#o.rss();
    this.#last = { at, msgs, bytes };
    this.#next = (i + 1) % this.#o.points;
    this.#count = Math.min(this.#count + 1, this.#o.points);
  }

  /** The points, oldest first (copies). */
  series(): ConsoleSeries {
    const n = this.#count;
    const start = (this.#next - n + this.#o.points) % this.#o.points;
    const read = (ring: Float64Array) => {
      const out = new Array<number>(n);
      for (let k = 0; k < n; k++) out[k] = ring[(start + k) % this.#o.points];
      return out;
    };
    return {
      t: read(this.#t),
      msgs: read(this.#msgs),
      bytes: read(this.#bytes),
      connections: read(this.#connections),
      rss: read(this.#rss),
    };
  }
}
