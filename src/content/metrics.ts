/**
 * Prometheus metrics of content transfer. Labels stay low-cardinality:
 * no peer ids, no content ids.
 *
 * @module
 */
import type { Counter, MetricsRegistry } from "../metrics/registry.ts";

/** Why a provider's data was refused. */
export type BadDataKind = "block" | "tree";

/**
 * The content counters and gauges, registered on `registry`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../metrics/registry.ts";
 * import { ContentMetrics } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const metrics = new ContentMetrics(registry);
 * metrics.served(16384);
 * registry.render().includes("macula_content_served_bytes_total 16384"); // true
 * ```
 */
export class ContentMetrics {
  #served: Counter;
  #fetched: Counter;
  #duplicate: Counter;
  #verified: Counter;
  #bad: Counter;
  #uploads = 0;
  #downloads = 0;

  /** Register the content metrics on `registry`. */
  constructor(registry: MetricsRegistry) {
    this.#served = registry.counter("macula_content_served_bytes_total", "Content bytes sent to fetchers");
    this.#fetched = registry.counter(
      "macula_content_fetched_bytes_total",
      "Content bytes received from providers (duplicates and bad blocks included)",
    );
    this.#duplicate = registry.counter(
      "macula_content_duplicate_bytes_total",
      "Content bytes received for groups already present",
    );
    this.#verified = registry.counter(
      "macula_content_verified_bytes_total",
      "Content bytes verified and written by fetches",
    );
    this.#bad = registry.counter(
      "macula_content_bad_blocks_total",
      "Groups (kind=block) or leaf-hash sets (kind=tree) from providers that failed verification",
    );
    registry.gauge("macula_content_active_uploads", "Content sessions being served", () => this.#uploads);
    registry.gauge("macula_content_active_downloads", "Content fetches running", () => this.#downloads);
  }

  /** `n` bytes sent to a fetcher. */
  served(n: number): void {
    this.#served.inc({}, n);
  }

  /** `n` bytes received from a provider. */
  fetched(n: number): void {
    this.#fetched.inc({}, n);
  }

  /** `n` bytes received for groups already present. */
  duplicate(n: number): void {
    this.#duplicate.inc({}, n);
  }

  /** `n` bytes verified and written. */
  verified(n: number): void {
    this.#verified.inc({}, n);
  }

  /** One group or tree that failed verification. */
  bad(kind: BadDataKind = "block"): void {
    this.#bad.inc({ kind });
  }

  /** A serving session starts (+1) or ends (−1). */
  uploads(delta: number): void {
    this.#uploads += delta;
  }

  /** A fetch starts (+1) or ends (−1). */
  downloads(delta: number): void {
    this.#downloads += delta;
  }

  /** Current number of serving sessions. */
  get activeUploads(): number {
    return this.#uploads;
  }

  /** Current number of fetches. */
  get activeDownloads(): number {
    return this.#downloads;
  }
}
