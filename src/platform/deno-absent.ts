/**
 * Stands in for `deno.ts` in the browser bundle (`src/browser/import_map.json`
 * maps `src/platform/deno.ts` here), so `/macula.js` carries none of the
 * Deno platform: the browser entry installs its own platform first, and
 * this is never called.
 *
 * @module
 */
import type { Platform } from "./types.ts";

/**
 * Never called in a browser (the entry installs the browser platform); throws.
 *
 * @example
 * ```ts
 * import { createDenoPlatform } from "./deno-absent.ts";
 * try {
 *   createDenoPlatform();
 * } catch (e) {
 *   console.log((e as Error).message);
 * }
 * ```
 */
export function createDenoPlatform(): Platform {
  throw new Error("the Deno platform is not part of this bundle (install the browser platform first)");
}
