/**
 * Picks the platform implementation for the running runtime.
 *
 * @module
 */
import { createDenoPlatform } from "./deno.ts";
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
  throw new Error("unsupported runtime: only Deno is supported by this build");
}
