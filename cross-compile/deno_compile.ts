/**
 * The Deno path: `deno compile --target …` with exactly the declared
 * permission set, for x86_64 and aarch64 (Deno has no 32-bit ARM build).
 *
 * `deno compile` needs the official `denort` runtime of the target. Deno
 * 2.9 looks for it in this order: the `DENORT_BIN` environment variable (the
 * unzipped binary), then `$DENO_DIR/dl/release/v<version>/denort-<triple>.zip`,
 * then downloads it from dl.deno.land. This module checks the same places
 * first and fails fast with one message saying what to fetch and where to
 * put it when none has it and the download host is unreachable.
 *
 * @module
 */
import { readElf } from "./elf.ts";
import { runnerFor } from "./emulation.ts";
import { BuildError } from "./errors.ts";
import { run, runOk, tail } from "./run.ts";
import type { Target } from "./targets.ts";

/** Where `deno compile` downloads a runtime from. */
export function denortUrl(version: string, triple: string): string {
  return `https://dl.deno.land/release/v${version}/denort-${triple}.zip`;
}

/** Where `deno compile` looks for a downloaded runtime. */
export function denortCachePath(denoDir: string, version: string, triple: string): string {
  return `${denoDir}/dl/release/v${version}/denort-${triple}.zip`;
}

/** Where the runtime for a target comes from. */
export type DenortSource =
  | { kind: "env"; path: string }
  | { kind: "cache"; path: string }
  | { kind: "download"; url: string };

/** The Deno that compiles, and its cache folder. */
export interface DenoInstall {
  executable: string;
  version: string;
  denoDir: string;
}

/**
 * The running Deno and its `DENO_DIR` (from `deno info --json`).
 *
 * @example
 * ```ts
 * import { currentDeno } from "./deno_compile.ts";
 * const deno = await currentDeno();
 * console.log(deno.version, deno.denoDir);
 * ```
 */
export async function currentDeno(): Promise<DenoInstall> {
  const { stdout } = await runOk("locating DENO_DIR (deno info --json)", Deno.execPath(), ["info", "--json"], {
    env: { NO_COLOR: "1" },
  });
  const info = JSON.parse(stdout) as { denoDir: string };
  return { executable: Deno.execPath(), version: Deno.version.deno, denoDir: info.denoDir };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Is the download host answering? (HEAD with a short timeout.) */
export async function downloadHostReachable(url: string, timeoutMs = 5_000): Promise<boolean> {
  try {
    const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Find the runtime for `target`: `DENORT_BIN` (only if it is an executable
 * of the target's architecture), the Deno cache, or — if the host answers —
 * a download. Otherwise a `BuildError` (`E_NO_DENORT`) that says what to
 * fetch and where to put it.
 *
 * @example
 * ```ts
 * import { currentDeno, locateDenort } from "./deno_compile.ts";
 * import { TARGETS } from "./targets.ts";
 * const source = await locateDenort(TARGETS.aarch64, await currentDeno());
 * ```
 */
export async function locateDenort(
  target: Target,
  deno: DenoInstall,
  options: { denortBin?: string; reachable?: (url: string) => Promise<boolean> } = {},
): Promise<DenortSource> {
  const triple = target.denoTriple;
  if (!triple) {
    throw new BuildError("E_USAGE", `Deno has no ${target.arch} build; ${target.arch} is built with --runtime node`);
  }
  const bin = options.denortBin ?? Deno.env.get("DENORT_BIN");
  if (bin) {
    const elf = await readElf(bin).catch(() => null);
    if (elf?.arch === target.arch) return { kind: "env", path: bin };
  }
  const cached = denortCachePath(deno.denoDir, deno.version, triple);
  if (await isFile(cached)) return { kind: "cache", path: cached };
  const url = denortUrl(deno.version, triple);
  if (await (options.reachable ?? downloadHostReachable)(url)) return { kind: "download", url };
  const binNote = bin ? ` (DENORT_BIN=${bin} is not a ${target.arch} executable)` : "";
  throw new BuildError(
    "E_NO_DENORT",
    `no Deno runtime for ${triple} and ${new URL(url).host} is unreachable${binNote}: fetch ${url} ` +
      `on a connected machine and put it at ${cached} (or unzip it and set DENORT_BIN to the denort binary), ` +
      `or build with --runtime node`,
  );
}

/** What a Deno build of one target needs. */
export interface DenoCompileOptions {
  root: string;
  target: Target;
  deno: DenoInstall;
  source: DenortSource;
  /** The declared permission set (the `macula` task's flags). */
  permissions: string[];
  outFile: string;
  log: (line: string) => void;
}

/**
 * Compile `main.ts` for one target with exactly `permissions`, then check
 * that the binary starts (natively or under qemu, when possible).
 *
 * @example
 * ```ts
 * import { compileDeno, currentDeno, locateDenort } from "./deno_compile.ts";
 * import { TARGETS } from "./targets.ts";
 * const deno = await currentDeno();
 * const source = await locateDenort(TARGETS.x86_64, deno);
 * await compileDeno({
 *   root: ".", target: TARGETS.x86_64, deno, source, permissions: ["--allow-net"],
 *   outFile: "dist/macula-0.1.0-linux-x86_64", log: console.log,
 * });
 * ```
 */
export async function compileDeno(options: DenoCompileOptions): Promise<void> {
  const { target, source, log } = options;
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  if (source.kind === "env") env.DENORT_BIN = source.path;
  env.NO_COLOR = "1";
  log(
    `[${target.arch} deno] deno compile --target ${target.denoTriple} (runtime: ${
      source.kind === "download" ? source.url : source.path
    })`,
  );
  await runOk(`deno compile for ${target.denoTriple}`, options.deno.executable, [
    "compile",
    "--target",
    target.denoTriple!,
    "--output",
    options.outFile,
    ...options.permissions,
    "main.ts",
  ], { cwd: options.root, env, clearEnv: true });
  const runner = runnerFor(target.arch);
  if ("reason" in runner) {
    log(`[${target.arch} deno] not started here: ${runner.reason}`);
    return;
  }
  const [cmd, ...args] = runner.argv(options.outFile, ["--version"]);
  const v = await run(cmd, args, { env: runner.env });
  if (v.code !== 0 || !v.stdout.includes(`linux-${target.arch}`) || !v.stdout.includes("deno ")) {
    await Deno.remove(options.outFile).catch(() => {});
    throw new BuildError(
      "E_BUILD",
      `the ${target.arch} Deno executable does not start as macula (is DENORT_BIN a denort, not deno?): ${
        tail(v.stderr || v.stdout) || `exit ${v.code}`
      }`,
    );
  }
  log(`[${target.arch} deno] ${v.stdout.trim()}`);
}
