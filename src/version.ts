/**
 * The release version (kept equal to `version` in deno.json; a test checks).
 *
 * @module
 */

/** Macula's version. */
export const VERSION = "0.1.0";
