/**
 * Locality paths and the level overlays they map to. A node's locality is a
 * path such as `eu/be/brussels` (1 to 8 segments, outermost first). Level
 * `i` of the hierarchy (0 = global, `depth` = the node's own cluster) is the
 * overlay `<realm>@<first i segments>`: a realm of its own for the DHT, so
 * its keys (`realmKey(levelRealm, …)`) are namespaced by the level prefix and
 * nothing stored at one level is visible at another.
 *
 * A node is a member of its own level; a bridge of `b` levels is also a
 * member of the `b` levels above (a bridge belongs to a level and its
 * parent). Membership is listed in the node's signed record (its realms),
 * and bridges also carry the role `bridge:<level realm>`.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Most segments in a locality path. */
export const MAX_LOCALITY_DEPTH = 8;

const SEGMENT = /^[a-z0-9][a-z0-9_.-]{0,31}$/;

/** A locality path or scope is malformed (code `E_LOCALITY`). */
export class LocalityError extends MaculaError {
  /** Build the error with a message saying what is wrong. */
  constructor(message: string) {
    super("E_LOCALITY", message);
  }
}

/**
 * Parse and validate a locality path (`"eu/be/brussels"`): 1 to 8 segments
 * of lowercase letters, digits, `_`, `.`, `-` (at most 32 each). Throws
 * `LocalityError`.
 *
 * @example
 * ```ts
 * import { parseLocality } from "./locality.ts";
 * parseLocality("eu/be/brussels"); // ["eu", "be", "brussels"]
 * ```
 */
export function parseLocality(path: string): string[] {
  if (typeof path !== "string" || path.length === 0) throw new LocalityError("locality path is empty");
  const segments = path.split("/");
  if (segments.length > MAX_LOCALITY_DEPTH) {
    throw new LocalityError(`locality ${JSON.stringify(path)} has ${segments.length} levels (at most 8)`);
  }
  for (const s of segments) {
    if (!SEGMENT.test(s)) {
      throw new LocalityError(
        `locality segment ${JSON.stringify(s)} of ${JSON.stringify(path)} is not 1-32 of [a-z0-9_.-]`,
      );
    }
  }
  return segments;
}

/**
 * The overlay (realm name) of level `level` (0 = global) of `path` in
 * `realm`. Throws `LocalityError` when the name exceeds the 64 characters a
 * realm may have.
 *
 * @example
 * ```ts
 * import { levelRealm } from "./locality.ts";
 * levelRealm("default", ["eu", "be"], 1); // "default@eu"
 * levelRealm("default", ["eu", "be"], 0); // "default@"
 * ```
 */
export function levelRealm(realm: string, path: readonly string[], level: number): string {
  const name = `${realm}@${path.slice(0, level).join("/")}`;
  if (name.length > 64) throw new LocalityError(`level overlay name ${JSON.stringify(name)} exceeds 64 characters`);
  return name;
}

/**
 * The level overlays a node with `path` joins: its own level and, as a
 * bridge of `bridgeLevels` levels, that many levels above (deepest first).
 *
 * @example
 * ```ts
 * import { memberRealms } from "./locality.ts";
 * memberRealms("default", ["eu", "be"], 1); // ["default@eu/be", "default@eu"]
 * ```
 */
export function memberRealms(realm: string, path: readonly string[], bridgeLevels = 0): string[] {
  const out: string[] = [];
  const top = Math.max(0, path.length - bridgeLevels);
  for (let level = path.length; level >= top; level--) out.push(levelRealm(realm, path, level));
  return out;
}

/**
 * Resolve a scope to the highest level (smallest number) a lookup may reach:
 * a level number, `"global"` (0), `"local"` (the node's own level), or a
 * segment name of the path (`"be"` in `eu/be/brussels`: stay within
 * `eu/be`). Throws `LocalityError` for an unknown scope.
 *
 * @example
 * ```ts
 * import { scopeLevel } from "./locality.ts";
 * scopeLevel(["eu", "be", "brussels"], "be"); // 2
 * ```
 */
export function scopeLevel(path: readonly string[], scope: string | number | undefined): number {
  if (scope === undefined || scope === "global") return 0;
  if (scope === "local") return path.length;
  if (typeof scope === "number") {
    if (!Number.isInteger(scope) || scope < 0 || scope > path.length) {
      throw new LocalityError(`scope level ${scope} is outside 0..${path.length}`);
    }
    return scope;
  }
  const i = path.lastIndexOf(scope);
  if (i < 0) throw new LocalityError(`scope ${JSON.stringify(scope)} is not a level of ${path.join("/")}`);
  return i + 1;
}
