/**
 * The one error type of the build: a one-line message saying what is
 * missing or wrong, and what to do about it.
 *
 * @module
 */
import { MaculaError } from "../src/util/errors.ts";

/**
 * A build failure. `code` is `E_USAGE` for bad arguments, `E_NO_DENORT` when
 * no Deno runtime for a target can be found, `E_TOOL` when an external tool
 * fails or is missing, `E_BUILD` otherwise.
 *
 * @example
 * ```ts
 * import { BuildError } from "./errors.ts";
 * throw new BuildError("E_TOOL", "npm is not on PATH; install Node.js with npm");
 * ```
 */
export class BuildError extends MaculaError {
  constructor(code: "E_USAGE" | "E_NO_DENORT" | "E_TOOL" | "E_BUILD", message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
