/**
 * The auth service's metrics: decisions in closed realms by kind and
 * outcome, refusals by kind and realm, the stored revocations, proof pulls
 * by outcome.
 *
 * @module
 */
import type { OperationKind } from "../node/authorize.ts";
import type { Counter, MetricsRegistry } from "../metrics/registry.ts";

/** How a proof pull ended. */
export type PullOutcome = "ok" | "none" | "failed";

const KINDS: readonly OperationKind[] = [
  "stream",
  "request",
  "call",
  "publish",
  "subscribe",
  "content",
  "state-write",
  "state-read",
];

/**
 * The counters, bound once.
 *
 * @example
 * ```ts
 * import { AuthMetrics } from "./auth-metrics.ts";
 * import { MetricsRegistry } from "../metrics/registry.ts";
 * const metrics = new AuthMetrics(new MetricsRegistry(), () => 0);
 * metrics.decided("publish", "plant", false);
 * ```
 */
export class AuthMetrics {
  readonly #allowed = new Map<string, { inc(n?: number): void }>();
  readonly #refusedDecisions = new Map<string, { inc(n?: number): void }>();
  readonly #refused: Counter;
  readonly #pulls: Counter;

  /** Register the metrics in `registry`; `revocations` reads the stored count when scraped. */
  constructor(registry: MetricsRegistry, revocations: () => number) {
    const decisions = registry.counter(
      "macula_auth_decisions_total",
      "Operations decided in closed realms, by kind and outcome (allowed, refused).",
    );
    for (const kind of KINDS) {
      this.#allowed.set(kind, decisions.with({ kind, outcome: "allowed" }));
      this.#refusedDecisions.set(kind, decisions.with({ kind, outcome: "refused" }));
    }
    this.#refused = registry.counter("macula_auth_refused_total", "Operations refused, by kind and realm.");
    this.#pulls = registry.counter("macula_auth_proof_pulls_total", "Proof chains pulled from peers, by outcome.");
    registry.gauge("macula_auth_revocations", "Revocations stored.", revocations);
  }

  /** Count one decision of `kind` in `realm` (`""` for none). */
  decided(kind: OperationKind, realm: string, ok: boolean): void {
    if (ok) {
      this.#allowed.get(kind)?.inc();
    } else {
      this.#refusedDecisions.get(kind)?.inc();
      this.#refused.inc({ kind, realm });
    }
  }

  /** Count one proof pull. */
  pulled(outcome: PullOutcome): void {
    this.#pulls.inc({ outcome });
  }
}
