/**
 * The node's Prometheus metrics.
 *
 * @module
 */
import { type Counter, MetricsRegistry } from "../metrics/registry.ts";

/** The node's metrics registry and the counters the node core updates. */
export interface NodeMetrics {
  /** The registry every metric of the node (and its services) lives in; `render()` gives the Prometheus text. */
  registry: MetricsRegistry;
  /** `macula_connections_opened_total`, labels `transport`, `direction`. */
  connectionsOpened: Counter;
  /** `macula_connections_closed_total`, label `transport`. */
  connectionsClosed: Counter;
  /** `macula_connections_superseded_total`: peers found restarted (their old connections closed at once). */
  connectionsSuperseded: Counter;
  /** `macula_dial_failures_total`, label `code` (the error code). */
  dialFailures: Counter;
  /** `macula_handshake_failures_total` (inbound), label `code` (the error code). */
  handshakeFailures: Counter;
  /** `macula_handshakes_refused_total` (inbound, before authentication), labels `transport`, `reason`. */
  handshakesRefused: Counter;
  /** `macula_protocol_violations_total`: connections closed because the peer broke the wire protocol. */
  protocolViolations: Counter;
  /** `macula_wire_errors_total`, label `type` (the message type). */
  wireErrors: Counter;
  /** `macula_streams_refused_total`, label `reason`. */
  streamsRefused: Counter;
  /** `macula_handler_errors_total`, label `protocol`. */
  handlerErrors: Counter;
}

/** Create the registry and the core counters. */
export function createNodeMetrics(registry = new MetricsRegistry()): NodeMetrics {
  return {
    registry,
    connectionsOpened: registry.counter(
      "macula_connections_opened_total",
      "Connections established, by transport and direction.",
    ),
    connectionsClosed: registry.counter("macula_connections_closed_total", "Connections closed, by transport."),
    connectionsSuperseded: registry.counter(
      "macula_connections_superseded_total",
      "Peers that restarted: a connection with a new session replaced the old ones at once.",
    ),
    dialFailures: registry.counter("macula_dial_failures_total", "Dials that failed, by error code."),
    handshakeFailures: registry.counter(
      "macula_handshake_failures_total",
      "Inbound handshakes that failed, by transport.",
    ),
    handshakesRefused: registry.counter(
      "macula_handshakes_refused_total",
      "Inbound handshakes refused before authentication, by transport and reason (global-limit, source-limit, deadline).",
    ),
    protocolViolations: registry.counter(
      "macula_protocol_violations_total",
      "Connections closed because the peer broke the wire protocol.",
    ),
    wireErrors: registry.counter("macula_wire_errors_total", "Bad input from the network, by message type."),
    streamsRefused: registry.counter("macula_streams_refused_total", "Inbound streams refused, by reason."),
    handlerErrors: registry.counter("macula_handler_errors_total", "Inbound stream handlers that failed, by protocol."),
  };
}
