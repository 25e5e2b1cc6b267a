/**
 * Figures of the single binaries: size per architecture and runtime,
 * start-to-ready time (spawn → "status endpoint listening"), natively and
 * under qemu, and idle RSS 5 s after ready. `deno run main.ts` (the declared
 * permission set) is measured alongside as the baseline.
 *
 * ```sh
 * deno task bench:binaries [--dist DIR] [--runs N]
 * ```
 *
 * Without `--dist`, builds the Node-path binaries of every architecture this
 * machine can run (and the Deno-path ones when a denort is supplied) into a
 * temp folder first. Ends with one machine-readable line `BENCH_JSON {...}`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { build } from "../cross-compile/build.ts";
import { currentDeno, locateDenort } from "../cross-compile/deno_compile.ts";
import { runnerFor } from "../cross-compile/emulation.ts";
import { launch } from "../cross-compile/launch.ts";
import { readDeclaredPermissions } from "../cross-compile/permissions.ts";
import { readElf } from "../cross-compile/elf.ts";
import { run } from "../cross-compile/run.ts";
import { type Arch, ARCHES, binaryName, type Runtime, TARGETS } from "../cross-compile/targets.ts";
import { VERSION } from "../src/version.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const IDLE_MS = 5_000;

interface Row {
  what: string;
  arch: Arch;
  runtime: Runtime;
  emulated: boolean;
  sizeMB: number | null;
  readyMs: number[];
  rssMB: number | null;
}

/** Temp folders removed at exit, also when a measurement fails. */
const scratchDirs: string[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(argv: string[], env: Record<string, string>, runs: number, cwd?: string) {
  const readyMs: number[] = [];
  let rssKb: number | null = null;
  for (let i = 0; i < runs; i++) {
    const data = await Deno.makeTempDir({ prefix: "macula-bench-", dir: cwd ? `${cwd}/.macula` : undefined });
    try {
      const node = await launch(
        [...argv, "start", "--data-dir", data, "--host", "127.0.0.1", "--port", "0", "--health-port", "0"],
        // LAN clustering off: the figures are of one node alone.
        { env: { CLUSTER_STRATEGY: "off", ...env }, cwd, timeoutMs: 120_000 },
      );
      readyMs.push(node.readyMs);
      if (i === runs - 1) {
        await new Promise((r) => setTimeout(r, IDLE_MS));
        rssKb = await node.rssKb();
      }
      const code = await node.stop("SIGTERM");
      if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}:\n${node.lines.join("\n")}`);
    } finally {
      await Deno.remove(data, { recursive: true }).catch(() => {});
    }
  }
  return { readyMs, rssMB: rssKb === null ? null : rssKb / 1024 };
}

async function main(): Promise<void> {
  const flags = parseArgs({
    args: Deno.args,
    options: { dist: { type: "string" }, runs: { type: "string" } },
  }).values;
  const runs = Number(flags.runs ?? 5);
  const rows: Row[] = [];
  let dist = flags.dist;
  const built = new Map<Arch, Runtime>();
  if (!dist) {
    dist = await Deno.makeTempDir({ prefix: "macula-bench-dist-" });
    scratchDirs.push(dist);
    const runnable = ARCHES.filter((a) => !("reason" in runnerFor(a)));
    console.error(`building node binaries for ${runnable.join(", ")} …`);
    await build({ root: ROOT, outDir: `${dist}/node`, arches: runnable, runtime: "node", log: () => {} });
    const deno = await currentDeno();
    const denoArches: Arch[] = [];
    for (const arch of runnable) {
      if (!TARGETS[arch].denoTriple) continue;
      try {
        await locateDenort(TARGETS[arch], deno);
        denoArches.push(arch);
      } catch (error) {
        console.error(`no Deno binary for ${arch}: ${(error as Error).message.split(":")[0]}`);
      }
    }
    if (denoArches.length > 0) {
      await build({ root: ROOT, outDir: `${dist}/deno`, arches: denoArches, runtime: "deno", log: () => {} });
    }
  }
  for (const runtime of ["node", "deno"] as const) {
    for (const arch of ARCHES) {
      const candidates = [`${dist}/${runtime}/${binaryName(VERSION, arch)}`, `${dist}/${binaryName(VERSION, arch)}`];
      let path: string | undefined;
      for (const c of candidates) {
        try {
          await Deno.stat(c);
          const v = await run(...argvOf(arch, c, ["--version"]));
          if (v.stdout.includes(`, ${runtime} `)) path = c;
        } catch {
          // absent
        }
        if (path) break;
      }
      if (!path || (await readElf(path))?.arch !== arch) continue;
      built.set(arch, runtime);
      const runner = runnerFor(arch);
      if ("reason" in runner) continue;
      const n = runner.emulated ? Math.max(1, Math.ceil(runs / 2)) : runs;
      // A Deno binary's file scope is `.macula` under its working directory.
      const cwd = runtime === "deno" ? await Deno.makeTempDir({ prefix: "macula-bench-cwd-" }) : undefined;
      if (cwd) scratchDirs.push(cwd), await Deno.mkdir(`${cwd}/.macula`);
      console.error(`measuring ${arch} ${runtime}${runner.emulated ? " (qemu)" : ""} …`);
      const m = await measure(runner.argv(path, []), runner.env, n, cwd);
      if (cwd) await Deno.remove(cwd, { recursive: true });
      rows.push({
        what: binaryName(VERSION, arch),
        arch,
        runtime,
        emulated: runner.emulated,
        sizeMB: (await Deno.stat(path)).size / 1e6,
        ...m,
      });
    }
  }
  const permissions = await readDeclaredPermissions(ROOT);
  console.error("measuring deno run main.ts (baseline) …");
  await Deno.mkdir(`${ROOT}/.macula`, { recursive: true });
  const base = await measure([Deno.execPath(), "run", ...permissions, "main.ts"], {}, runs, ROOT);
  rows.push({ what: "deno run main.ts", arch: "x86_64", runtime: "deno", emulated: false, sizeMB: null, ...base });

  console.log("| binary | runtime | size | start to ready | idle RSS |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const r of rows) {
    const where = r.emulated ? " (qemu)" : " (native)";
    console.log(
      `| ${r.what} | ${r.runtime} | ${r.sizeMB === null ? "–" : `${r.sizeMB.toFixed(1)} MB`} | ${
        median(r.readyMs).toFixed(0)
      } ms${where} | ${r.rssMB === null ? "–" : `${r.rssMB.toFixed(1)} MiB${r.emulated ? " (qemu process)" : ""}`} |`,
    );
  }
  console.log(`BENCH_JSON ${JSON.stringify({ idleMs: IDLE_MS, rows })}`);
}

function argvOf(arch: Arch, binary: string, args: string[]): [string, string[], { env: Record<string, string> }] {
  const runner = runnerFor(arch);
  if ("reason" in runner) throw new Error(runner.reason);
  const [cmd, ...rest] = runner.argv(binary, args);
  return [cmd, rest, { env: runner.env }];
}

if (import.meta.main) {
  try {
    await main();
  } finally {
    for (const dir of scratchDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
