/**
 * The root of every typed error this project throws.
 *
 * @module
 */

/**
 * Base class of Macula's typed errors. `code` is a stable, machine-readable
 * identifier; `message` is for humans.
 *
 * @example
 * ```ts
 * import { MaculaError } from "./errors.ts";
 * try {
 *   throw new MaculaError("E_EXAMPLE", "something went wrong");
 * } catch (e) {
 *   if (e instanceof MaculaError) console.log(e.code);
 * }
 * ```
 */
export class MaculaError extends Error {
  /** Stable machine-readable code, e.g. `"E_WIRE_TRUNCATED"`. */
  readonly code: string;

  /**
   * Build an error with `code` and `message`; `options.cause` keeps the
   * underlying error. `name` is the class name of the error built.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
