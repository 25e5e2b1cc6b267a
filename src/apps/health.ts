/**
 * Health of admitted apps: one bounded call of `meshHealth()`, and the
 * record of an app's health over time.
 *
 * @module
 */
import { withDeadline } from "../util/async.ts";
import type { MeshApp } from "./app.ts";

/** Default time `meshHealth()` has to answer, ms. */
export const DEFAULT_HEALTH_TIMEOUT = 2_000;
/** Default interval between health checks, ms. */
export const DEFAULT_HEALTH_INTERVAL = 10_000;

/** An app's health as the gatekeeper saw it last. */
export interface AppHealth {
  /** `healthy` after a passed check, `unhealthy` after a failed one. */
  state: "healthy" | "unhealthy";
  /** When the last check ended (ISO 8601). */
  lastCheck: string;
  /** What the last failed check said, until a check passes. */
  lastError: string | null;
  /** Checks run. */
  checks: number;
  /** Checks failed. */
  failures: number;
}

/**
 * Ask `app` for its health: `undefined` when it answered `true` within
 * `timeout` ms, else what went wrong (its error, an exception, a wrong
 * answer, or no answer in time). Never throws.
 *
 * @example
 * ```ts
 * import { probeHealth } from "./health.ts";
 * import type { MeshApp } from "./app.ts";
 * declare const app: MeshApp;
 * const problem = await probeHealth(app, 2_000); // undefined when healthy
 * ```
 */
export async function probeHealth(app: Pick<MeshApp, "meshHealth">, timeout: number): Promise<string | undefined> {
  try {
    const answer = await withDeadline(Promise.resolve().then(() => app.meshHealth()), timeout, "meshHealth()");
    if (answer === true) return undefined;
    if (typeof answer === "object" && answer !== null && typeof answer.error === "string") {
      return answer.error || "unhealthy";
    }
    return `meshHealth() answered ${JSON.stringify(answer) ?? String(answer)}, not true`;
  } catch (error) {
    return (error as Error)?.message ?? String(error);
  }
}

/** The health record of one app; `record` says whether the state changed. */
export class HealthRecord {
  #health: AppHealth;

  /** A record that starts healthy (the admission check passed) at `now` (ms). */
  constructor(now: number) {
    this.#health = {
      state: "healthy",
      lastCheck: new Date(now).toISOString(),
      lastError: null,
      checks: 1,
      failures: 0,
    };
  }

  /** A copy of the current health. */
  get(): AppHealth {
    return { ...this.#health };
  }

  /** Whether the last check passed. */
  get healthy(): boolean {
    return this.#health.state === "healthy";
  }

  /** Record a check ending at `now` (ms) with `problem` (undefined = passed); true if the state changed. */
  record(problem: string | undefined, now: number): boolean {
    const before = this.#health.state;
    const h = this.#health;
    h.checks++;
    h.lastCheck = new Date(now).toISOString();
    if (problem === undefined) {
      h.state = "healthy";
      h.lastError = null;
    } else {
      h.state = "unhealthy";
      h.lastError = problem;
      h.failures++;
    }
    return h.state !== before;
  }
}
