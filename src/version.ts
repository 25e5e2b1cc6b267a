/**
 * The release version (kept equal to `version` in deno.json; a test checks).
 *
 * @module
 */

/**
 * Set by the Node build when `MACULA_BUILD_VERSION` stamps a version
 * (esbuild `--define`); absent otherwise.
 */
const stamped = (globalThis as { __MACULA_BUILD_VERSION__?: unknown }).__MACULA_BUILD_VERSION__;

/** Macula's version (a build may stamp another with `MACULA_BUILD_VERSION`, see docs/registry.md). */
export const VERSION: string = typeof stamped === "string" ? stamped : "0.1.0";
