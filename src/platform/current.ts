/**
 * Picks the platform implementation for the running runtime: Deno when
 * `globalThis.Deno` exists, else Node.
 *
 * @module
 */
import { createDenoPlatform } from "./deno.ts";
import { createNodePlatform } from "./node.ts";
import type { Platform } from "./types.ts";

let current: Platform | undefined;

/**
 * The platform of the running runtime (created once).
 *
 * @example
 * ```ts
 * import { currentPlatform } from "./current.ts";
 * console.log(currentPlatform().runtime); // "deno"
 * ```
 */
export function currentPlatform(): Platform {
  if (current) return current;
  if ("Deno" in globalThis) return current = createDenoPlatform();
  const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
  if (versions?.node) return current = createNodePlatform();
  throw new Error("unsupported runtime: Macula runs on Deno or Node");
}
