/**
 * Test helpers for the single binaries: build the Node-path executables
 * once per source version (cached in a temp folder keyed by a hash of the
 * sources), and tell which architectures this machine can run.
 */
import { createHash } from "node:crypto";
import { build, type BuildResult } from "../../cross-compile/build.ts";
import { runnerFor } from "../../cross-compile/emulation.ts";
import { which } from "../../cross-compile/run.ts";
import { sha256File } from "../../cross-compile/sums.ts";
import { type Arch, ARCHES, binaryName, sumsName } from "../../cross-compile/targets.ts";
import { VERSION } from "../../src/version.ts";

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Environment for every node these tests start: LAN clustering off, so test
 * nodes only meet the peers a test gives them (as in tests/helpers/cli.ts).
 */
export const TEST_NODE_ENV: Record<string, string> = { CLUSTER_STRATEGY: "off" };

/**
 * The `ignore` of a test that cannot run here: prints `SKIPPED (ignored):
 * <what>: <reason>` when the module loads (so the reason is in the log) and
 * returns true, so the test counts as ignored, never as passed. No reason:
 * false.
 */
export function ignoreWithReason(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  console.log(`SKIPPED (ignored): ${what}: ${reason}`);
  return true;
}

/**
 * Why the Node-path executable of `arch` cannot be built and run here, or
 * undefined if it can (checked without building: npm, and a native or
 * emulated runner).
 */
export function nodeBuildUnavailable(arch: Arch): string | undefined {
  if (!which("npm")) return "npm is not on PATH (the Node binaries and esbuild come from the npm registry)";
  const runner = runnerFor(arch);
  return "reason" in runner ? runner.reason : undefined;
}

async function hashTree(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    hash.update(path.slice(ROOT.length));
    hash.update(await Deno.readFile(path));
    return;
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  for (const name of names.sort()) await hashTree(hash, `${path}/${name}`);
}

/** A hash of everything that goes into a binary. */
export async function sourceHash(): Promise<string> {
  const hash = createHash("sha256");
  for (const p of ["main.ts", "deno.json", "deno.lock", "src", "cross-compile"]) await hashTree(hash, `${ROOT}/${p}`);
  return hash.digest("hex").slice(0, 16);
}

/** The Node-path binaries of the architectures this machine can run. */
export interface NodeBuild {
  outDir: string;
  /** Built and runnable here. */
  arches: Arch[];
  /** Architecture → why it was not built. */
  skipped: Map<Arch, string>;
  path(arch: Arch): string;
  /** Build log (empty when reused from an earlier run). */
  log: string[];
  /** Seconds the build took (0 when reused). */
  seconds: number;
}

let cached: Promise<NodeBuild | { reason: string }> | undefined;

/**
 * Build (once per test run and source hash) the Node-path executable of
 * every architecture this machine can run; `{ reason }` if none can be.
 * (A test decides whether it runs with `nodeBuildUnavailable` when it is
 * registered; `nodeBuildFor` then only builds.)
 */
export function nodeBuild(): Promise<NodeBuild | { reason: string }> {
  return cached ??= (async () => {
    if (!which("npm")) {
      return { reason: "npm is not on PATH (the Node binaries and esbuild come from the npm registry)" };
    }
    const skippedArches = new Map<Arch, string>();
    const arches: Arch[] = [];
    for (const arch of ARCHES) {
      const r = runnerFor(arch);
      if ("reason" in r) skippedArches.set(arch, r.reason);
      else arches.push(arch);
    }
    if (arches.length === 0) return { reason: "no architecture can run here" };
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const name = `macula-build-test-${await sourceHash()}`;
    const outDir = `${tmp}/${name}`;
    for await (const e of Deno.readDir(tmp)) {
      // Builds of other sources (~250 MB each) older than an hour (so never one a parallel run is using).
      if (!e.isDirectory || !e.name.startsWith("macula-build-test-") || e.name === name) continue;
      const mtime = (await Deno.stat(`${tmp}/${e.name}`).catch(() => null))?.mtime?.getTime() ?? Date.now();
      if (Date.now() - mtime > 3_600_000) await Deno.remove(`${tmp}/${e.name}`, { recursive: true }).catch(() => {});
    }
    const log: string[] = [];
    let seconds = 0;
    if (!(await complete(outDir, arches))) {
      const t0 = performance.now();
      const result: BuildResult = await build({
        root: ROOT,
        outDir,
        arches,
        runtime: "node",
        log: (line) => log.push(line),
      }).catch((error) => {
        throw new Error(`${(error as Error).message}\nbuild log:\n${log.join("\n")}`);
      });
      seconds = (performance.now() - t0) / 1000;
      if (result.binaries.length !== arches.length) throw new Error(`built ${result.binaries.length} binaries`);
    }
    return {
      outDir,
      arches,
      skipped: skippedArches,
      path: (arch: Arch) => `${outDir}/${binaryName(VERSION, arch)}`,
      log,
      seconds,
    };
  })();
}

/** The build, for a test whose `arch` was found runnable when it was registered; throws otherwise. */
export async function nodeBuildFor(arch: Arch): Promise<NodeBuild> {
  const b = await nodeBuild();
  if ("reason" in b) throw new Error(`Node-path build: ${b.reason}`);
  if (!b.arches.includes(arch)) throw new Error(`${arch} was not built: ${b.skipped.get(arch)}`);
  return b;
}

/** Does `outDir` hold every binary, matching its sums file? */
async function complete(outDir: string, arches: Arch[]): Promise<boolean> {
  let sums: string;
  try {
    sums = await Deno.readTextFile(`${outDir}/${sumsName(VERSION)}`);
  } catch {
    return false;
  }
  for (const arch of arches) {
    const name = binaryName(VERSION, arch);
    const line = sums.split("\n").find((l) => l.endsWith(`  ${name}`));
    if (!line) return false;
    try {
      if ((await sha256File(`${outDir}/${name}`)) !== line.split(" ")[0]) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Poll `predicate` every 200 ms until it holds, or fail after `ms`. */
export async function eventually(predicate: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (true) {
    try {
      if (await predicate()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
