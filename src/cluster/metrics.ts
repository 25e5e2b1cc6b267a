/**
 * Prometheus metrics of clustering, registered on the node's registry.
 *
 * @module
 */
import type { Counter, MetricsRegistry } from "../metrics/registry.ts";
import type { DropReason } from "./errors.ts";

/**
 * Counters of the cluster service.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../metrics/registry.ts";
 * import { ClusterMetrics } from "./metrics.ts";
 * const m = new ClusterMetrics(new MetricsRegistry());
 * m.drop("bad_mac");
 * m.dropped.get({ reason: "bad_mac" }); // 1
 * ```
 */
export class ClusterMetrics {
  /** Dropped datagrams by reason. */
  readonly dropped: Counter;
  /** Membership bytes sent, by message type. */
  readonly bytesSent: Counter;
  /** Membership bytes received, by message type (`invalid` for dropped ones). */
  readonly bytesReceived: Counter;
  /** Datagrams sent, by message type. */
  readonly datagramsSent: Counter;
  /** Datagrams received, by message type (`invalid` for dropped ones). */
  readonly datagramsReceived: Counter;
  /** Probe outcomes: ack, indirect_ack, failed, stalled. */
  readonly probes: Counter;
  /** Membership state changes, by new state. */
  readonly transitions: Counter;
  /** Dials of discovered members, by result. */
  readonly dials: Counter;

  constructor(registry: MetricsRegistry) {
    this.dropped = registry.counter(
      "macula_cluster_dropped_datagrams_total",
      "Cluster datagrams dropped, by reason (malformed, missing_mac, bad_mac, unexpected_mac, stale, replay, bad_signature, mismatch, limit).",
    );
    this.bytesSent = registry.counter("macula_cluster_bytes_sent_total", "Membership bytes sent, by message type.");
    this.bytesReceived = registry.counter(
      "macula_cluster_bytes_received_total",
      "Membership bytes received, by message type.",
    );
    this.datagramsSent = registry.counter("macula_cluster_datagrams_sent_total", "Cluster datagrams sent, by type.");
    this.datagramsReceived = registry.counter(
      "macula_cluster_datagrams_received_total",
      "Cluster datagrams received, by type.",
    );
    this.probes = registry.counter("macula_cluster_probes_total", "SWIM probes, by outcome.");
    this.transitions = registry.counter("macula_cluster_transitions_total", "Membership state changes, by state.");
    this.dials = registry.counter("macula_cluster_dials_total", "Dials of discovered members, by result.");
  }

  /** Count a dropped datagram. */
  drop(reason: DropReason, bytes = 0): void {
    this.dropped.inc({ reason });
    this.datagramsReceived.inc({ type: "invalid" });
    if (bytes) this.bytesReceived.inc({ type: "invalid" }, bytes);
  }

  /** Count a datagram sent. */
  sent(type: string, bytes: number): void {
    this.datagramsSent.inc({ type });
    this.bytesSent.inc({ type }, bytes);
  }

  /** Count an accepted datagram. */
  received(type: string, bytes: number): void {
    this.datagramsReceived.inc({ type });
    this.bytesReceived.inc({ type }, bytes);
  }
}
