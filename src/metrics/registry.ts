/**
 * Prometheus metrics: counters and gauges with labels, rendered in the text
 * exposition format.
 *
 * @module
 */

/** Label names and values of one series, e.g. `{ transport: "quic" }`. */
export type MetricLabels = Record<string, string>;

function labelKey(labels: MetricLabels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) =>
    `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  )
    .join(",");
}

function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

/** What `Counter` and `Gauge` share: a name, a help text and one value per label set. */
export abstract class Metric {
  /** Values by rendered label set (`""` for no labels). */
  protected values: Map<string, number> = new Map();
  /**
   * Build a metric.
   *
   * @param name The metric name, e.g. `macula_dials_total`.
   * @param help One line describing it (the `# HELP` line).
   * @param type The Prometheus metric type.
   */
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge") {}

  /** Value for the given labels (0 if never set). */
  get(labels: MetricLabels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  /** The sum of its values over every label set (for a computed gauge: as of its last render). */
  total(): number {
    let sum = 0;
    for (const v of this.values.values()) sum += v;
    return sum;
  }

  /** @internal */
  render(): string {
    const help = this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
    const lines = [`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [key, value] of this.values) {
      lines.push(`${this.name}${key ? `{${key}}` : ""} ${formatValue(value)}`);
    }
    return lines.join("\n");
  }
}

/** A monotonically increasing count. */
export class Counter extends Metric {
  /** Build a counter; use `MetricsRegistry.counter` to get one that is rendered. */
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }

  /** Add `n` (default 1). */
  inc(labels: MetricLabels = {}, n = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }

  /**
   * A counter bound to fixed labels, for hot paths (the label key is
   * computed once).
   */
  with(labels: MetricLabels = {}): { inc(n?: number): void } {
    const key = labelKey(labels);
    const values = this.values;
    return {
      inc(n = 1) {
        values.set(key, (values.get(key) ?? 0) + n);
      },
    };
  }
}

/** A value that goes up and down, or is computed when scraped. */
export class Gauge extends Metric {
  #collect?: () => Array<[MetricLabels, number]> | number;

  /**
   * Build a gauge; use `MetricsRegistry.gauge` to get one that is rendered.
   * With `collect`, its values are replaced by what `collect` returns (one
   * number, or label sets with values) each time it is rendered.
   */
  constructor(name: string, help: string, collect?: () => Array<[MetricLabels, number]> | number) {
    super(name, help, "gauge");
    this.#collect = collect;
  }

  /** Set the value. */
  set(labels: MetricLabels, value: number): void {
    this.values.set(labelKey(labels), value);
  }

  /** The sum of its values, computed now when it is a computed gauge. */
  override total(): number {
    const v = this.#collect?.();
    if (typeof v === "number") return v;
    if (v) return v.reduce((sum, [, x]) => sum + x, 0);
    return super.total();
  }

  /** @internal */
  override render(): string {
    if (this.#collect) {
      const v = this.#collect();
      this.values.clear();
      if (typeof v === "number") this.values.set("", v);
      else for (const [labels, value] of v) this.values.set(labelKey(labels), value);
    }
    return super.render();
  }
}

/**
 * A set of metrics rendered together.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./registry.ts";
 * const m = new MetricsRegistry();
 * const dials = m.counter("macula_dials_total", "Dial attempts");
 * dials.inc({ transport: "quic" });
 * m.render(); // Prometheus text
 * ```
 */
export class MetricsRegistry {
  #metrics = new Map<string, Metric>();

  /** Get or create a counter. */
  counter(name: string, help: string): Counter {
    return this.#add(name, Counter, () => new Counter(name, help));
  }

  /** Get or create a gauge, optionally computed at scrape time. */
  gauge(name: string, help: string, collect?: () => Array<[MetricLabels, number]> | number): Gauge {
    return this.#add(name, Gauge, () => new Gauge(name, help, collect));
  }

  // deno-lint-ignore no-explicit-any
  #add<M extends Metric>(name: string, kind: abstract new (...args: any[]) => M, make: () => M): M {
    let m = this.#metrics.get(name);
    if (!m) this.#metrics.set(name, m = make());
    if (!(m instanceof kind)) throw new TypeError(`metric ${name} is already registered as a ${m.type}`);
    return m;
  }

  /** The metric named `name`, if registered (read-only use: `get`, `total`). */
  find(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /** Every registered metric, in registration order. */
  list(): Metric[] {
    return [...this.#metrics.values()];
  }

  /** Prometheus text exposition format. */
  render(): string {
    return [...this.#metrics.values()].map((m) => m.render()).join("\n") + "\n";
  }
}
