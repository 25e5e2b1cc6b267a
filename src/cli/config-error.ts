/**
 * The error of a bad configuration value.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** A bad configuration value (exit code 2); the message names the variable, flag or file. */
export class ConfigError extends MaculaError {
  /** `message` names the source of the bad value and what is wrong with it. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_CONFIG", message, options);
  }
}
