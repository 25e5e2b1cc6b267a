/**
 * What the gatekeeper reports: per-app status (`/status`) and its metrics
 * (`macula_app_operations_total{app,op,outcome}`,
 * `macula_app_admissions_total{outcome}`, `macula_app_health{app}`).
 *
 * @module
 */
import type { AppCapability } from "../auth/commands.ts";
import type { Counter, MetricsRegistry } from "../metrics/registry.ts";
import type { AppOperation, MeshApi } from "./app.ts";
import type { OperationRefusalReason } from "./errors.ts";
import type { AdmittedApp } from "./handle.ts";
import type { AppHealth } from "./health.ts";

/** Operations through an app's handle: allowed, and refused by reason. */
export interface OperationCounts {
  /** Operations allowed. */
  allowed: number;
  /** Operations refused, by reason. */
  refused: Partial<Record<OperationRefusalReason, number>>;
}

/** An admitted app, as `/status` shows it. */
export interface AppStatus {
  /** Its identity. */
  identity: string;
  /** Its key. */
  did: string;
  /** The namespace its proof grants. */
  namespace: string;
  /** Its realm. */
  realm: string;
  /** Declared capabilities. */
  capabilities: AppCapability[];
  /** Declared API. */
  api: MeshApi;
  /** When it was admitted (ISO 8601). */
  verifiedAt: string;
  /** When its proof expires (seconds), or null. */
  expires: number | null;
  /** Its health. */
  health: AppHealth;
  /** Procedures advertised now. */
  advertised: string[];
  /** Why its proof no longer holds, if revoked. */
  revoked?: string;
  /** Operations through its handle. */
  operations: OperationCounts;
}

/** The gatekeeper's counters and gauge, and per-app operation counts for the status. */
export class AppsMetrics {
  readonly #ops: Counter;
  readonly #admissions: Counter;
  readonly #counts = new Map<string, OperationCounts>();
  /** Counters bound to their labels, by `app|op|outcome` (the label key is computed once). */
  readonly #bound = new Map<string, { inc(n?: number): void }>();

  /** Register the metrics in `registry`; the health gauge reads `apps` when scraped. */
  constructor(registry: MetricsRegistry, apps: () => Iterable<AdmittedApp>) {
    this.#ops = registry.counter("macula_app_operations_total", "Operations of admitted apps, by app, op, outcome.");
    this.#admissions = registry.counter("macula_app_admissions_total", "App admissions, by outcome.");
    registry.gauge(
      "macula_app_health",
      "1 while the app is healthy and its proof holds, else 0.",
      () => [...apps()].map((a) => [{ app: a.manifest.identity }, a.active ? 1 : 0]),
    );
  }

  /** Count one operation of app `identity`: allowed, or refused for `refused`. */
  operation(identity: string, op: AppOperation, refused?: OperationRefusalReason): void {
    const outcome = refused ? "refused" : "allowed";
    const key = `${identity}|${op}|${outcome}`;
    let counter = this.#bound.get(key);
    if (!counter) this.#bound.set(key, counter = this.#ops.with({ app: identity, op, outcome }));
    counter.inc();
    let counts = this.#counts.get(identity);
    if (!counts) this.#counts.set(identity, counts = { allowed: 0, refused: {} });
    if (refused) counts.refused[refused] = (counts.refused[refused] ?? 0) + 1;
    else counts.allowed++;
  }

  /** Count one admission: `"admitted"` or the failed step. */
  admission(outcome: string): void {
    this.#admissions.inc({ outcome });
  }

  /** The status of `app`. */
  status(app: AdmittedApp): AppStatus {
    const m = app.manifest;
    return {
      identity: m.identity,
      did: m.did,
      namespace: m.namespace,
      realm: m.realm,
      capabilities: m.capabilities,
      api: m.api,
      verifiedAt: m.verifiedAt,
      expires: m.expires,
      health: app.health(),
      advertised: app.advertised,
      ...(app.revoked !== undefined ? { revoked: app.revoked } : {}),
      operations: structuredClone(this.#counts.get(m.identity) ?? { allowed: 0, refused: {} }),
    };
  }

  /** Forget the counts of a withdrawn app (a re-admitted one starts afresh in the status). */
  forget(identity: string): void {
    this.#counts.delete(identity);
    for (const key of this.#bound.keys()) if (key.startsWith(`${identity}|`)) this.#bound.delete(key);
  }
}
