/**
 * The platform of the running runtime. Under Deno it is the Deno platform,
 * created on first use. Any other runtime must install its platform first
 * with `installPlatform`: the Node build does so in its own entry
 * (`cross-compile/node_main.ts` imports `src/platform/node-install.ts`
 * before `main.ts`), so the Deno module graph never loads Node's socket,
 * HTTP or file modules, and a browser bundle can install one of its own.
 *
 * @module
 */
import { createDenoPlatform } from "./deno.ts";
import type { Platform } from "./types.ts";

let current: Platform | undefined;

/**
 * Make `platform` the one `currentPlatform()` returns from now on (call it
 * before anything else asks for the platform).
 *
 * @example
 * ```ts
 * import { currentPlatform, installPlatform } from "./current.ts";
 * installPlatform(currentPlatform()); // a no-op: reinstalls the Deno platform
 * ```
 */
export function installPlatform(platform: Platform): void {
  current = platform;
}

/**
 * The platform of the running runtime (created once under Deno, installed
 * with `installPlatform` elsewhere).
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
  if (versions?.node) {
    throw new Error("no platform installed: under Node, import src/platform/node-install.ts before main.ts");
  }
  throw new Error("unsupported runtime: Macula runs on Deno or Node (no platform installed)");
}
