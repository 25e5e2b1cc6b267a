/**
 * The one declared permission set: the flags of the `macula` task in
 * deno.json (`deno task start` runs `deno task macula start`). The compiled
 * Deno binary gets exactly these; the tests run `main.ts` under exactly
 * these.
 *
 * @module
 */
import { BuildError } from "./errors.ts";

/**
 * The `deno run` flags of the `macula` task in the given deno.json text:
 * everything between `run` and `main.ts`.
 *
 * @example
 * ```ts
 * import { declaredPermissions } from "./permissions.ts";
 * const flags = declaredPermissions(JSON.stringify({ tasks: { macula: "deno run --allow-net main.ts" } }));
 * // ["--allow-net"]
 * ```
 */
export function declaredPermissions(denoJson: string): string[] {
  const task = (JSON.parse(denoJson) as { tasks?: Record<string, string> }).tasks?.macula;
  if (typeof task !== "string") throw new BuildError("E_BUILD", `deno.json has no "macula" task`);
  const tokens = task.trim().split(/\s+/);
  const from = tokens.indexOf("run") + 1;
  const to = tokens.indexOf("main.ts");
  if (from <= 0 || to < from) {
    throw new BuildError("E_BUILD", `cannot read the permission flags from the macula task: ${task}`);
  }
  const flags = tokens.slice(from, to);
  const broad = flags.find((f) => f === "-A" || f === "--allow-all");
  if (broad) throw new BuildError("E_BUILD", `the macula task grants ${broad}; declare scoped permissions instead`);
  return flags;
}

/**
 * The declared permission set of the project at `root`.
 *
 * @example
 * ```ts
 * import { readDeclaredPermissions } from "./permissions.ts";
 * console.log((await readDeclaredPermissions(".")).join(" "));
 * ```
 */
export async function readDeclaredPermissions(root: string): Promise<string[]> {
  return declaredPermissions(await Deno.readTextFile(`${root}/deno.json`));
}
