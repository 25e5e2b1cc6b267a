/**
 * Running external tools (npm, tar, esbuild, postject, strip, qemu, deno)
 * with their output captured.
 *
 * @module
 */
import { BuildError } from "./errors.ts";

/** The outcome of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run a command. */
export interface RunOptions {
  cwd?: string;
  /** Added to (or, with `clearEnv`, replacing) the inherited environment. */
  env?: Record<string, string>;
  clearEnv?: boolean;
}

/**
 * Run `command args…` to completion; a missing executable is a `BuildError`.
 *
 * @example
 * ```ts
 * import { run } from "./run.ts";
 * const r = await run("npm", ["--version"]);
 * console.log(r.code, r.stdout.trim());
 * ```
 */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(command, {
      args,
      cwd: options.cwd,
      env: options.env,
      clearEnv: options.clearEnv,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new BuildError("E_TOOL", `${command} is not installed (not found on PATH)`, { cause: error });
    }
    throw error;
  }
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The last non-empty lines of `text`, joined with " | " (for one-line error messages). */
export function tail(text: string, lines = 3): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").slice(-lines).join(" | ");
}

/** The first line of `text` that reports an error (e.g. esbuild's "✘ [ERROR] …"), if any. */
function errorLine(text: string): string | undefined {
  return text.split("\n").map((l) => l.trim()).find((l) => /\berror\b/i.test(l));
}

/**
 * Run a command that must succeed; otherwise a `BuildError` naming `what`
 * and quoting the end of its stderr.
 *
 * @example
 * ```ts
 * import { runOk } from "./run.ts";
 * const { stdout } = await runOk("listing the cache", "ls", ["-1", "/tmp"]);
 * ```
 */
export async function runOk(
  what: string,
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new BuildError(
      "E_TOOL",
      `${what} failed (${command} exited with ${result.code}): ${
        errorLine(result.stderr) ?? (tail(result.stderr || result.stdout) || "no output")
      }`,
    );
  }
  return result;
}

/** Find an executable on PATH; `null` if absent. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not here
    }
  }
  return null;
}
