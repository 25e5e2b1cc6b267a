/**
 * The hierarchy settings of `macula start`: `--locality PATH`
 * (`MACULA_LOCALITY`) and `--bridge LEVELS` (`MACULA_BRIDGE`). Flags win
 * over the environment; a bad value is a `ConfigError` naming its source.
 *
 * @module
 */
import type { FlagSpec } from "./args.ts";
import { ConfigError } from "./config-error.ts";
import { LocalityError, parseLocality } from "../hierarchy/locality.ts";

/** `--locality`, `--bridge`. */
export const LOCALITY_FLAGS: FlagSpec = {
  locality: { type: "string" },
  bridge: { type: "string" },
};

/** The environment variables they mirror. */
export const LOCALITY_ENV = ["MACULA_LOCALITY", "MACULA_BRIDGE"] as const;

/** The flags as parsed. */
export interface LocalityFlags {
  locality?: string;
  bridge?: string;
}

/** The resolved settings: a locality path (absent = no hierarchy) and the levels bridged. */
export interface LocalityConfig {
  locality?: string;
  bridge: number;
}

/**
 * Resolve the locality settings from the environment (`e`) and `flags`.
 *
 * @example
 * ```ts
 * import { resolveLocality } from "./locality-flags.ts";
 * resolveLocality(() => undefined, { locality: "eu/be/brussels", bridge: "1" }); // { locality: "eu/be/brussels", bridge: 1 }
 * ```
 */
export function resolveLocality(e: (name: string) => string | undefined, flags: LocalityFlags): LocalityConfig {
  const path = (v: string, source: string) => {
    try {
      return parseLocality(v.trim()).join("/");
    } catch (error) {
      if (error instanceof LocalityError) throw new ConfigError(`invalid ${source}: ${error.message}`);
      throw error;
    }
  };
  const levels = (v: string, source: string) => {
    if (!/^[0-8]$/.test(v.trim())) {
      throw new ConfigError(`invalid ${source} ${JSON.stringify(v)}: expected a number of levels 0-8`);
    }
    return Number(v.trim());
  };
  const out: LocalityConfig = { bridge: 0 };
  if (e("MACULA_LOCALITY")) out.locality = path(e("MACULA_LOCALITY")!, "MACULA_LOCALITY");
  if (e("MACULA_BRIDGE")) out.bridge = levels(e("MACULA_BRIDGE")!, "MACULA_BRIDGE");
  if (flags.locality !== undefined) out.locality = path(flags.locality, "--locality");
  if (flags.bridge !== undefined) out.bridge = levels(flags.bridge, "--bridge");
  const depth = out.locality?.split("/").length ?? 0;
  if (out.bridge > depth) {
    throw new ConfigError(`invalid --bridge ${out.bridge}: the locality has only ${depth} levels to bridge`);
  }
  return out;
}
