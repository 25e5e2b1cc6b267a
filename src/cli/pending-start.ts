/**
 * `macula start`'s side of the rollback after a self-update (see
 * `src/registry/pending.ts`): before the node starts, look at the
 * `<binary>.pending` marker; a second start of a just-installed version
 * rolls back (the caller exits 75); a first start must call `ready()`
 * within the bound, else the binary is rolled back and the process exits 75.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { Platform } from "../platform/types.ts";
import { NODE_HEALTH_TIMEOUT } from "../registry/health-check.ts";
import { checkPending, confirmPending, rollBack } from "../registry/pending.ts";
import { EXIT_RESTART } from "../registry/self-update.ts";

/** What the start command does with it. */
export interface PendingGuard {
  /** The previous binary was put back: exit with `EXIT_RESTART` without starting. */
  rolledBack: boolean;
  /** The node is ready: keep the update (removes the marker). */
  ready(): Promise<void>;
}

const NOTHING: PendingGuard = { rolledBack: false, ready: () => Promise.resolve() };

/**
 * Check the marker next to the running single binary (only there: the
 * Deno build never self-updates).
 *
 * @example
 * ```ts
 * import { guardPendingUpdate } from "./pending-start.ts";
 * declare const platform: import("../platform/types.ts").Platform;
 * declare const log: import("../log/logger.ts").Logger;
 * const guard = await guardPendingUpdate(platform, log, "0.2.0");
 * if (!guard.rolledBack) await guard.ready(); // once /health and /ready answer
 * ```
 */
export async function guardPendingUpdate(
  platform: Platform,
  log: Logger,
  version: string,
  boundMs = NODE_HEALTH_TIMEOUT,
): Promise<PendingGuard> {
  const execPath = platform.process.execPath?.();
  if (platform.runtime !== "node" || !execPath) return NOTHING;
  const { fs } = platform;
  try {
    const r = await checkPending(fs, execPath, version);
    if (r.action === "none") return NOTHING;
    if (r.action === "cleared") {
      log.warn("the update did not take; running this version", { update: r.marker.version, version });
      return NOTHING;
    }
    if (r.action === "rolled-back") {
      log.error("the updated binary did not become ready; previous binary restored, restarting", {
        update: r.marker.version,
      });
      return { rolledBack: true, ready: () => Promise.resolve() };
    }
    const marker = r.marker;
    const timer = setTimeout(async () => {
      log.error("the updated binary is not ready in time; restoring the previous one", { boundMs });
      await rollBack(fs, execPath, marker).catch((e) => log.error("rollback failed", { error: String(e) }));
      platform.process.exit(EXIT_RESTART);
    }, boundMs);
    return {
      rolledBack: false,
      async ready() {
        clearTimeout(timer);
        await confirmPending(fs, execPath);
        log.info("update confirmed", { version });
      },
    };
  } catch (error) {
    log.warn("cannot check the pending update", { error: (error as Error).message });
    return NOTHING;
  }
}
