/**
 * Shared pieces of the command line: flag parsing and error lines.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Platform } from "../platform/types.ts";
import { MaculaError } from "../util/errors.ts";

/** A usage error: bad command or flag (exit code 2). */
export class UsageError extends MaculaError {
  constructor(message: string) {
    super("E_USAGE", message);
  }
}

/** Flag definitions for `parse`. */
export type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/** Parse flags strictly (plus `-h/--help`); bad flags are a `UsageError`. */
export function parse<T>(args: string[], options: FlagSpec): T {
  return parseWithPositionals<T>(args, options, 0).values;
}

/**
 * Parse flags and up to `maxPositionals` positional arguments (flags may come
 * before or after them).
 */
export function parseWithPositionals<T>(
  args: string[],
  options: FlagSpec,
  maxPositionals: number,
): { values: T; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: maxPositionals > 0,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return { values: parsed.values as T, positionals: parsed.positionals };
}

/** One line describing `error` for the user. */
export function describeError(error: unknown, platform: Platform): string {
  for (let e: unknown = error; e; e = (e as Error).cause) {
    const denied = platform.permissionDenied(e);
    if (denied) return denied;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}
