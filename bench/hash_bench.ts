/**
 * Hashing figures for content ids (`deno task bench:hash`): MB/s of the
 * candidate hash functions on 16 KiB chunk groups and on 1 MiB buffers, and
 * of our own tree hashing (a publish: `TreeBuilder`) and verification
 * (`groupMatches`) per codec — under Deno, under Node (x86_64), and under
 * the armv7 Node in qemu user-mode emulation (relative figures only: qemu
 * is no board). Every figure is the median of `--runs` runs of at least
 * `--ms` milliseconds each, after a warm-up run, the candidates taking turns
 * run by run; the ratio column divides by WebCrypto SHA-256 on 16 KiB
 * groups measured in the same process.
 *
 * The same file is the measuring child under Node: it bundles itself with
 * esbuild (the project's cross-compile bundler, npm packages from Deno's
 * cache) and runs the bundle with `node` and with the armv7 Node binary of
 * the build cache under `qemu-arm-static`.
 *
 * Flags: `--runs N` (5), `--ms N` (150; armv7 gets 2×), `--no-node`,
 * `--no-armv7`, `--json` (print the raw results too).
 *
 * @module
 */
import { createBLAKE3, createSHA256 } from "npm:hash-wasm@4.13.0";
import { blake3 as nobleBlake3 } from "npm:@noble/hashes@2.4.0/blake3.js";
import { type Codec, loadHasher } from "../src/content/hash.ts";
import { GROUP_SIZE, groupMatches, hashBytes, TreeBuilder } from "../src/content/tree.ts";

/** One measured figure. */
interface Figure {
  id: string;
  mbps: number;
  runs: number[];
}

/** What one runtime measured. */
interface RuntimeResult {
  runtime: string;
  version: string;
  arch: string;
  figures: Figure[];
  /** Candidates that could not run here, with why. */
  skipped: Record<string, string>;
}

/** The candidates, in table order, with their labels. */
const CANDIDATES: [id: string, label: string][] = [
  ["wasm-blake3-16k", "hash-wasm BLAKE3, 16 KiB groups"],
  ["wasm-blake3-1m", "hash-wasm BLAKE3, 1 MiB buffers"],
  ["wasm-sha256-16k", "hash-wasm SHA-256, 16 KiB groups"],
  ["wasm-sha256-1m", "hash-wasm SHA-256, 1 MiB buffers"],
  ["webcrypto-sha256-16k", "WebCrypto SHA-256 (async), 16 KiB groups"],
  ["webcrypto-sha256-1m", "WebCrypto SHA-256 (async), 1 MiB buffers"],
  ["node-sha256-16k", "node:crypto SHA-256, 16 KiB groups"],
  ["node-sha256-1m", "node:crypto SHA-256, 1 MiB buffers"],
  ["noble-blake3-16k", "@noble/hashes BLAKE3 (pure JS), 16 KiB groups"],
  ["noble-blake3-1m", "@noble/hashes BLAKE3 (pure JS), 1 MiB buffers"],
  ["publish-blake3", "our TreeBuilder, blake3 (publish)"],
  ["publish-sha256", "our TreeBuilder, sha256 (publish)"],
  ["verify-blake3", "our groupMatches, blake3 (verify)"],
  ["verify-sha256", "our groupMatches, sha256 (verify)"],
];

/** The baseline every ratio divides by. */
const BASELINE = "webcrypto-sha256-16k";

const DATA_SIZE = 4 * 1024 * 1024;
const MIB = 1024 * 1024;

/** A unit of work: hashes `bytes` bytes per call. */
interface Work {
  bytes: number;
  step(i: number): void | Promise<void>;
}

function slices(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += size) out.push(data.subarray(off, off + size));
  return out;
}

/** Run `work` for at least `ms`, return MB/s (10^6 bytes per second). */
async function timed(work: Work, ms: number): Promise<number> {
  let bytes = 0, i = 0;
  const start = performance.now();
  let now = start;
  do {
    const r = work.step(i++);
    if (r) await r;
    bytes += work.bytes;
    now = performance.now();
  } while (now - start < ms);
  return bytes / 1e6 / ((now - start) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

type NodeCrypto = { createHash(alg: string): { update(b: Uint8Array): { digest(): Uint8Array } } };

/** Build the work of every candidate over `data`. */
async function works(data: Uint8Array): Promise<{ works: Map<string, Work>; skipped: Record<string, string> }> {
  const groups = slices(data, GROUP_SIZE), megs = slices(data, MIB);
  const per16k = (f: (b: Uint8Array) => unknown): Work => ({
    bytes: GROUP_SIZE,
    step: (i) => void f(groups[i % groups.length]),
  });
  const per1m = (f: (b: Uint8Array) => unknown): Work => ({ bytes: MIB, step: (i) => void f(megs[i % megs.length]) });
  const out = new Map<string, Work>();
  const skipped: Record<string, string> = {};

  const wb = await createBLAKE3(), ws = await createSHA256();
  const wasm = (h: typeof wb) => (b: Uint8Array) => {
    h.init();
    h.update(b);
    return h.digest("binary");
  };
  out.set("wasm-blake3-16k", per16k(wasm(wb)));
  out.set("wasm-blake3-1m", per1m(wasm(wb)));
  out.set("wasm-sha256-16k", per16k(wasm(ws)));
  out.set("wasm-sha256-1m", per1m(wasm(ws)));

  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const digest = (b: Uint8Array) => subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>);
    out.set("webcrypto-sha256-16k", {
      bytes: GROUP_SIZE,
      step: (i) => digest(groups[i % groups.length]).then(() => {}),
    });
    out.set("webcrypto-sha256-1m", { bytes: MIB, step: (i) => digest(megs[i % megs.length]).then(() => {}) });
  } else {
    skipped["webcrypto-sha256-16k"] = skipped["webcrypto-sha256-1m"] = "no crypto.subtle";
  }

  try {
    const nc = (await import("node:crypto")) as unknown as NodeCrypto;
    const f = (b: Uint8Array) => nc.createHash("sha256").update(b).digest();
    out.set("node-sha256-16k", per16k(f));
    out.set("node-sha256-1m", per1m(f));
  } catch (error) {
    skipped["node-sha256-16k"] = skipped["node-sha256-1m"] = `node:crypto unavailable: ${(error as Error).message}`;
  }

  out.set("noble-blake3-16k", per16k((b) => nobleBlake3(b)));
  out.set("noble-blake3-1m", per1m((b) => nobleBlake3(b)));

  // A publish: stream the content in 64 KiB slices through a fresh builder, then the MCID.
  const chunks = slices(data, 64 * 1024);
  for (const codec of ["blake3", "sha256"] as Codec[]) {
    await loadHasher(codec);
    out.set(`publish-${codec}`, {
      bytes: data.length,
      step: async () => {
        const b = await TreeBuilder.create(codec);
        for (const c of chunks) b.push(c);
        b.finish();
      },
    });
  }
  // Verification: each arriving 16 KiB group against its (already verified) leaf.
  for (const codec of ["blake3", "sha256"] as Codec[]) {
    const h = await loadHasher(codec);
    const { leaves } = await hashBytes(data, codec);
    out.set(`verify-${codec}`, {
      bytes: GROUP_SIZE,
      step: (i) => {
        const g = i % groups.length;
        if (!groupMatches(h, leaves, data.length, g, groups[g])) throw new Error(`group ${g} did not verify`);
      },
    });
  }
  return { works: out, skipped };
}

/** Measure every candidate in this process. */
async function measure(runs: number, ms: number, runtime: string, version: string, arch: string) {
  const data = new Uint8Array(DATA_SIZE);
  for (let off = 0; off < data.length; off += 65536) crypto.getRandomValues(data.subarray(off, off + 65536));
  const { works: all, skipped } = await works(data);
  const ids = CANDIDATES.map(([id]) => id).filter((id) => all.has(id));
  for (const id of ids) await timed(all.get(id)!, ms / 2); // warm-up
  // Round robin: run r of every candidate before run r + 1 of any, so that a
  // burst of load from elsewhere on the machine hits all candidates alike.
  const xs = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (let r = 0; r < runs; r++) for (const id of ids) xs.get(id)!.push(await timed(all.get(id)!, ms));
  const figures: Figure[] = ids.map((id) => ({
    id,
    mbps: median(xs.get(id)!),
    runs: xs.get(id)!.map((x) => Math.round(x * 10) / 10),
  }));
  return { runtime, version, arch, figures, skipped } satisfies RuntimeResult;
}

/** The table: one row per candidate, MB/s and ratio to the baseline per runtime. */
function table(results: RuntimeResult[]): string {
  const head = ["candidate", ...results.flatMap((r) => [`${r.runtime} MB/s`, "× WebCrypto"])];
  const rows = CANDIDATES.map(([id, label]) => [
    label,
    ...results.flatMap((r) => {
      const f = r.figures.find((x) => x.id === id);
      const base = r.figures.find((x) => x.id === BASELINE);
      if (!f) return ["—", "—"];
      return [f.mbps >= 100 ? f.mbps.toFixed(0) : f.mbps.toFixed(1), base ? (f.mbps / base.mbps).toFixed(2) : "—"];
    }),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join(" | ")} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

// ---- Node child (the bundle runs this) ----

interface NodeProcess {
  argv: string[];
  version: string;
  arch: string;
  stdout: { write(s: string): boolean };
  exitCode?: number;
}

async function nodeChild(proc: NodeProcess): Promise<void> {
  const arg = (name: string, dflt: number) => {
    const i = proc.argv.indexOf(name);
    return i >= 0 ? Number(proc.argv[i + 1]) : dflt;
  };
  const result = await measure(arg("--runs", 5), arg("--ms", 150), "node", proc.version, proc.arch);
  proc.stdout.write(JSON.stringify(result) + "\n");
}

// ---- Deno parent ----

async function denoMain(): Promise<void> {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      ms: { type: "string", default: "150" },
      "no-node": { type: "boolean", default: false },
      "no-armv7": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs), ms = Number(values.ms);
  if (!(runs >= 1) || !(ms >= 10)) throw new Error("--runs must be ≥ 1 and --ms ≥ 10");
  const results: RuntimeResult[] = [];
  const notes: string[] = [];
  const started = performance.now();
  const loadBefore = await load();

  console.error(`hash bench: ${runs} runs × ≥ ${ms} ms per candidate, ${DATA_SIZE / MIB} MiB of random data`);
  console.error(`deno ${Deno.version.deno} (${Deno.build.arch}): measuring…`);
  const deno = await measure(runs, ms, `deno ${Deno.build.arch}`, Deno.version.deno, Deno.build.arch);
  results.push(deno);

  if (!values["no-node"] || !values["no-armv7"]) {
    const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
    const { bundleForNode } = await import("../cross-compile/bundle.ts");
    const { buildCacheDir, fetchNodeBinary, installTools } = await import("../cross-compile/cache.ts");
    const { runnerFor } = await import("../cross-compile/emulation.ts");
    const { TARGETS } = await import("../cross-compile/targets.ts");
    const dir = await Deno.makeTempDir({ prefix: "macula-hash-bench-" });
    try {
      const bundle = `${dir}/hash_bench.cjs`;
      const cache = buildCacheDir();
      const { esbuild } = await installTools(cache);
      await bundleForNode({ root, esbuild, outFile: bundle, entry: "bench/hash_bench.ts" });
      const childArgs = (k: number) => [bundle, "--runs", String(runs), "--ms", String(ms * k)];

      if (!values["no-node"]) {
        console.error("node (host): measuring…");
        const r = await child("node", childArgs(1), {}, 120_000);
        if ("error" in r) notes.push(`node x86_64: SKIPPED — ${r.error}`);
        else results.push({ ...r, runtime: `node ${archName(r.arch)}` });
      }
      if (!values["no-armv7"]) {
        const runner = runnerFor("armv7");
        let node: string | undefined;
        let why: string | undefined;
        if ("reason" in runner) why = runner.reason;
        else {
          try {
            node = await fetchNodeBinary(cache, TARGETS.armv7);
          } catch (error) {
            why = `no armv7 Node binary (${(error as Error).message})`;
          }
        }
        if (why || !node || "reason" in runner) {
          notes.push(`node armv7 (qemu): SKIPPED — ${why}`);
        } else {
          console.error(`node armv7 under ${runner.emulated ? "qemu" : "native"}: measuring (slow)…`);
          const argv = runner.argv(node, childArgs(2));
          const r = await child(argv[0], argv.slice(1), runner.env, 240_000);
          if ("error" in r) notes.push(`node armv7 (qemu): SKIPPED — ${r.error}`);
          else results.push({ ...r, runtime: `node ${archName(r.arch)}${runner.emulated ? " (qemu)" : ""}` });
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }

  const versions = results.map((r) => `${r.runtime.split(" ")[0]} ${r.version} ${archName(r.arch)}`).join(", ");
  console.log(table(results));
  console.log(
    `\nMB/s = 10^6 bytes/s, median of ${runs} runs (≥ ${ms} ms each; armv7 ≥ ${2 * ms} ms); ` +
      `× WebCrypto = ratio to WebCrypto SHA-256 on 16 KiB groups in the same runtime. Runtimes: ${versions}.`,
  );
  for (const r of results) {
    for (const [id, why] of Object.entries(r.skipped)) notes.push(`${r.runtime}: ${id} skipped — ${why}`);
  }
  console.log(`Machine: ${await machine()}; load average ${loadBefore} before, ${await load()} after.`);
  for (const n of notes) console.log(n);
  console.error(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (values.json) console.log(JSON.stringify(results, null, 2));
}

/** Node's and Deno's architecture names, as the single-binary targets name them. */
function archName(arch: string): string {
  return ({ x64: "x86_64", arm: "armv7", arm64: "aarch64" } as Record<string, string>)[arch] ?? arch;
}

/** A file under /proc (Deno needs --allow-all to read /proc directly; `cat` needs only --allow-run). */
async function proc(name: string): Promise<string> {
  const out = await new Deno.Command("cat", { args: [`/proc/${name}`], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

/** The 1-minute load average, or "?". */
async function load(): Promise<string> {
  return (await proc("loadavg").catch(() => "?")).split(" ")[0] || "?";
}

/** CPU model, count and whether it has SHA instructions (native SHA-256 depends on them). */
async function machine(): Promise<string> {
  try {
    const info = await proc("cpuinfo");
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? "unknown CPU";
    const cpus = info.match(/^processor\s*:/gm)?.length ?? 0;
    const sha = /^flags\s*:.*\bsha_ni\b/m.test(info) || /^Features\s*:.*\bsha2\b/m.test(info);
    return `${model} × ${cpus}, ${Deno.build.os}, SHA instructions: ${sha ? "yes" : "no"}`;
  } catch {
    return `${Deno.build.os} ${Deno.build.arch}`;
  }
}

/** Run a measuring child; its last stdout line is its JSON result. Killed after `timeoutMs`. */
async function child(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<RuntimeResult | { error: string }> {
  let proc: Deno.ChildProcess;
  try {
    proc = new Deno.Command(command, { args, env, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
  } catch (error) {
    return { error: `${command} could not start: ${(error as Error).message}` };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const out = await proc.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  if (timedOut) return { error: `timed out after ${timeoutMs / 1000} s` };
  if (!out.success) {
    const err = text.decode(out.stderr).trim().split("\n").slice(-2).join(" | ");
    return { error: `${command} exited with ${out.code}: ${err}` };
  }
  const lines = text.decode(out.stdout).trim().split("\n");
  try {
    return JSON.parse(lines[lines.length - 1]) as RuntimeResult;
  } catch {
    return { error: `unreadable output: ${lines[lines.length - 1]?.slice(0, 200)}` };
  }
}

if (import.meta.main) {
  const proc = (globalThis as unknown as { process?: NodeProcess }).process;
  const isNode = (globalThis as { Deno?: unknown }).Deno === undefined && proc !== undefined;
  (isNode ? nodeChild(proc!) : denoMain()).catch((error) => {
    console.error(`hash bench: ${(error as Error)?.stack ?? error}`);
    if (isNode) proc!.exitCode = 1;
    else Deno.exit(1);
  });
}
