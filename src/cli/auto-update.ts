/**
 * `macula start --auto-update CHANNEL [--auto-update-interval SECONDS]`:
 * the node checks its channel every interval (default an hour; the first
 * check one interval after start) and self-updates when a newer release
 * is there (then exits 75 for systemd to restart it; see
 * `src/registry/self-update.ts`).
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { channelName, type SelfUpdateResult } from "../registry/self-update.ts";
import type { FlagSpec } from "./args.ts";
import { ConfigError } from "./config-error.ts";

/** The flags. */
export const AUTO_UPDATE_FLAGS: FlagSpec = {
  "auto-update": { type: "string" },
  "auto-update-interval": { type: "string" },
};

/** Default seconds between checks. */
export const DEFAULT_AUTO_UPDATE_INTERVAL = 3600;

/** What the flags ask for. */
export interface AutoUpdateConfig {
  /** The channel. */
  channel: string;
  /** Between checks, ms. */
  intervalMs: number;
}

/**
 * The auto-update settings from the flags, or `undefined` without
 * `--auto-update`; a bad channel or interval is a `ConfigError`.
 *
 * @example
 * ```ts
 * import { autoUpdateConfig } from "./auto-update.ts";
 * autoUpdateConfig({ "auto-update": "stable", "auto-update-interval": "600" }); // { channel: "stable", intervalMs: 600000 }
 * ```
 */
export function autoUpdateConfig(
  flags: { "auto-update"?: string; "auto-update-interval"?: string },
): AutoUpdateConfig | undefined {
  const channel = flags["auto-update"];
  const interval = flags["auto-update-interval"];
  if (channel === undefined) {
    if (interval !== undefined) throw new ConfigError("--auto-update-interval needs --auto-update CHANNEL");
    return undefined;
  }
  try {
    channelName(channel);
  } catch (error) {
    throw new ConfigError(`--auto-update: ${(error as Error).message}`);
  }
  const seconds = interval === undefined ? DEFAULT_AUTO_UPDATE_INTERVAL : Number(interval);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 7 * 86400) {
    throw new ConfigError(`--auto-update-interval ${JSON.stringify(interval)}: whole seconds, 1 to 604800`);
  }
  return { channel, intervalMs: seconds * 1000 };
}

/** Check every interval with `update` until it updated; returns a stop function. */
export function startAutoUpdate(
  config: AutoUpdateConfig,
  update: () => Promise<SelfUpdateResult>,
  log: Logger,
): () => void {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const r = await update();
      if (r.updated) clearInterval(timer);
      else log.debug("auto-update: up to date", { channel: config.channel, version: r.from, latest: r.to });
    } catch (error) {
      log.warn("auto-update failed", { channel: config.channel, error: (error as Error).message });
    } finally {
      busy = false;
    }
  }, config.intervalMs);
  return () => clearInterval(timer);
}
