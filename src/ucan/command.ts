/**
 * UCAN commands: `/`-delimited paths (`/macula/pubsub/publish`). A
 * delegation of a command covers that command and every command below it,
 * compared segment by segment: `/macula/pubsub` proves
 * `/macula/pubsub/publish` but not `/macula/pubsubx`; `/` proves all.
 *
 * @module
 */
import { InvalidCommandError } from "./errors.ts";

/** Longest command accepted, in UTF-16 code units. */
export const MAX_COMMAND_LENGTH = 256;

/**
 * Throw `InvalidCommandError` unless `cmd` is a valid command: `/`, or one
 * or more non-empty `/`-prefixed segments, lowercase, with no whitespace or
 * control characters and no trailing `/`.
 *
 * @example
 * ```ts
 * import { validateCommand } from "./command.ts";
 * validateCommand("/macula/pubsub/publish"); // ok
 * // validateCommand("/Macula/") throws InvalidCommandError
 * ```
 */
export function validateCommand(cmd: string): void {
  if (typeof cmd !== "string") throw new InvalidCommandError("a command is a string");
  if (cmd.length === 0 || cmd.length > MAX_COMMAND_LENGTH) {
    throw new InvalidCommandError(`a command is 1-${MAX_COMMAND_LENGTH} characters`);
  }
  if (cmd.charCodeAt(0) !== 0x2f) throw new InvalidCommandError(`command ${JSON.stringify(cmd)} does not start with /`);
  if (cmd === "/") return;
  if (cmd.endsWith("/")) throw new InvalidCommandError(`command ${JSON.stringify(cmd)} ends with /`);
  if (cmd.includes("//")) throw new InvalidCommandError(`command ${JSON.stringify(cmd)} has an empty segment`);
  if (/[\s\p{Cc}]/u.test(cmd)) {
    throw new InvalidCommandError(`command ${JSON.stringify(cmd)} contains whitespace or control characters`);
  }
  if (cmd !== cmd.toLowerCase()) throw new InvalidCommandError(`command ${JSON.stringify(cmd)} is not lowercase`);
}

/**
 * Whether a delegation of command `parent` proves command `child`: `parent`
 * is `/`, equals `child`, or is a whole-segment prefix of it. Both are
 * assumed valid (see `validateCommand`).
 *
 * @example
 * ```ts
 * import { commandProves } from "./command.ts";
 * commandProves("/macula/pubsub", "/macula/pubsub/publish"); // true
 * commandProves("/macula/pubsub", "/macula/pubsubx"); // false
 * commandProves("/", "/anything"); // true
 * ```
 */
export function commandProves(parent: string, child: string): boolean {
  if (parent === "/" || parent === child) return true;
  return child.length > parent.length + 1 && child.startsWith(parent) && child.charCodeAt(parent.length) === 0x2f;
}
