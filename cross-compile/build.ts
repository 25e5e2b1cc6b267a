/**
 * `deno task build`: single executables of `macula`, one per architecture,
 * plus a SHA-256 sums file.
 *
 * ```sh
 * deno task build [--target x86_64|aarch64|armv7|all]… [--runtime deno|node] [--out DIR]
 * ```
 *
 * - `--runtime deno` (default): `deno compile` for x86_64 and aarch64 with the
 *   declared permission set (QUIC + TCP); needs a `denort` (see
 *   `deno_compile.ts`). armv7 is always built with Node.
 * - `--runtime node`: a Node single executable (TCP only) for any target.
 *
 * Writes `DIR/macula-<version>-linux-<arch>` (default DIR: `dist`) and
 * `DIR/macula-<version>-SHA256SUMS`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { VERSION } from "../src/version.ts";
import { bundleForNode } from "./bundle.ts";
import { buildCacheDir, installTools } from "./cache.ts";
import { compileDeno, currentDeno, type DenortSource, locateDenort } from "./deno_compile.ts";
import { runnerFor } from "./emulation.ts";
import { BuildError } from "./errors.ts";
import { buildNodeSea } from "./node_sea.ts";
import { readDeclaredPermissions } from "./permissions.ts";
import { writeSums } from "./sums.ts";
import { type Arch, ARCHES, binaryName, parseArch, type Runtime, sumsName, TARGETS } from "./targets.ts";

/** What to build. */
export interface BuildOptions {
  /** Project root (holds deno.json and main.ts). */
  root: string;
  /** Output folder. */
  outDir: string;
  arches: Arch[];
  /** Runtime for x86_64/aarch64; armv7 always uses Node. */
  runtime: Runtime;
  /** The user named the runtime: `deno` for armv7 alone is then an error rather than a fallback. */
  explicitRuntime?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Build cache (default: `buildCacheDir()`). */
  cacheDir?: string;
}

/** One built executable. */
export interface BuiltBinary {
  arch: Arch;
  runtime: Runtime;
  path: string;
  bytes: number;
  sha256: string;
}

/** Everything a build wrote. */
export interface BuildResult {
  binaries: BuiltBinary[];
  sumsFile: string;
}

/** The runtime each requested architecture is built with. */
export function plan(
  arches: Arch[],
  runtime: Runtime,
  explicitRuntime = false,
): Array<{ arch: Arch; runtime: Runtime }> {
  return [...new Set(arches)].map((arch) => {
    if (arch === "armv7" && runtime === "deno") {
      if (explicitRuntime && arches.length === 1) {
        throw new BuildError("E_USAGE", "Deno has no 32-bit ARM build; build armv7 with --runtime node");
      }
      return { arch, runtime: "node" as const };
    }
    return { arch, runtime };
  });
}

/**
 * Build the requested executables.
 *
 * @example
 * ```ts
 * import { build } from "./build.ts";
 * const result = await build({ root: ".", outDir: "dist", arches: ["armv7"], runtime: "node" });
 * console.log(result.binaries[0].path); // "dist/macula-0.1.0-linux-armv7"
 * ```
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const steps = plan(options.arches, options.runtime, options.explicitRuntime);
  const cacheDir = options.cacheDir ?? buildCacheDir();

  // Fail fast: find every Deno runtime before the slow work starts.
  const denoSteps = steps.filter((s) => s.runtime === "deno");
  const deno = denoSteps.length > 0 ? await currentDeno() : undefined;
  const sources = new Map<Arch, DenortSource>();
  for (const s of denoSteps) sources.set(s.arch, await locateDenort(TARGETS[s.arch], deno!));
  const permissions = await readDeclaredPermissions(options.root);
  // …and every emulator the Node builds need (each target's own Node makes its SEA blob).
  for (const s of steps.filter((s) => s.runtime === "node")) {
    const runner = runnerFor(s.arch);
    if ("reason" in runner) {
      throw new BuildError(
        "E_TOOL",
        `cannot build the ${s.arch} executable: its Node cannot run here: ${runner.reason}`,
      );
    }
  }

  await Deno.mkdir(options.outDir, { recursive: true });
  const work = await Deno.makeTempDir({ prefix: "macula-build-" });
  const built: Array<{ arch: Arch; runtime: Runtime; path: string }> = [];
  try {
    const nodeSteps = steps.filter((s) => s.runtime === "node");
    if (nodeSteps.length > 0) {
      log("[node] installing the build tools (esbuild, postject) into the build cache");
      const tools = await installTools(cacheDir);
      const bundle = `${work}/macula.cjs`;
      log("[node] bundling main.ts with the Node platform (esbuild)");
      await bundleForNode({ root: options.root, esbuild: tools.esbuild, outFile: bundle });
      for (const s of nodeSteps) {
        const path = `${options.outDir}/${binaryName(VERSION, s.arch)}`;
        await buildNodeSea({
          target: TARGETS[s.arch],
          bundle,
          outFile: path,
          workDir: `${work}/${s.arch}`,
          cacheDir,
          tools,
          log,
        });
        built.push({ ...s, path });
      }
    }
    for (const s of denoSteps) {
      const path = `${options.outDir}/${binaryName(VERSION, s.arch)}`;
      await compileDeno({
        root: options.root,
        target: TARGETS[s.arch],
        deno: deno!,
        source: sources.get(s.arch)!,
        permissions,
        outFile: path,
        log,
      });
      built.push({ ...s, path });
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const sums = await writeSums(options.outDir, VERSION);
  const binaries: BuiltBinary[] = [];
  for (const b of built) {
    const name = b.path.slice(b.path.lastIndexOf("/") + 1);
    binaries.push({ ...b, bytes: (await Deno.stat(b.path)).size, sha256: sums.get(name)! });
  }
  return { binaries, sumsFile: `${options.outDir}/${sumsName(VERSION)}` };
}

const USAGE = `Usage: deno task build [--target x86_64|aarch64|armv7|all]… [--runtime deno|node] [--out DIR]

Builds single executables of macula: DIR/macula-${VERSION}-linux-<arch> and DIR/${sumsName(VERSION)}.

  --target T     x86_64, aarch64, armv7 or all (repeatable or comma-separated; default all)
  --runtime R    deno (default; QUIC + TCP; x86_64 and aarch64 only, needs a denort) or
                 node (TCP only; any target). armv7 is always built with node.
  --out DIR      output folder (default dist)

A Deno build needs the denort runtime of its target: DENORT_BIN=<unzipped denort>, or
$DENO_DIR/dl/release/v<deno version>/denort-<triple>.zip, or access to dl.deno.land.
Node builds of aarch64/armv7 need qemu-user-static and sysroots (cross-compile/setup-emulation.sh).`;

async function main(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args,
      options: {
        target: { type: "string", multiple: true },
        runtime: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`build: ${(error as Error).message.split("\n")[0]}`);
    return 2;
  }
  if (flags.help) return console.log(USAGE), 0;
  try {
    const names = (flags.target ?? ["all"]).flatMap((t) => t.split(",")).filter((t) => t !== "");
    const arches = names.includes("all") ? [...ARCHES] : names.map(parseArch);
    const runtime = flags.runtime ?? "deno";
    if (runtime !== "deno" && runtime !== "node") {
      throw new BuildError("E_USAGE", `unknown runtime ${JSON.stringify(runtime)}; use deno or node`);
    }
    const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
    const outDir = flags.out ?? `${root}/dist`;
    const result = await build({ root, outDir, arches, runtime, explicitRuntime: flags.runtime !== undefined });
    for (const b of result.binaries) {
      console.log(`${b.path}  ${b.runtime}  ${(b.bytes / 1e6).toFixed(1)} MB  sha256 ${b.sha256}`);
    }
    console.log(result.sumsFile);
    return 0;
  } catch (error) {
    console.error(`build: ${(error as Error).message.split("\n")[0]}`);
    return error instanceof BuildError && error.code === "E_USAGE" ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
