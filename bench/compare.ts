/**
 * Compare a benchmark between two commits in one run: check out `--base`
 * (default `HEAD~1`) in a temporary git worktree, then run the bench task in
 * the base tree and in this tree alternately, `--rounds` times each (base,
 * this, base, this, …), so that both see the same machine load. Every run
 * ends with a `BENCH_JSON {...}` line; each numeric figure is reduced to its
 * median over the rounds, and printed next to the base's with the ratio.
 * A figure more than `--tolerance` (default 5 %) worse than the base is
 * marked REGRESSION, and the script exits 1 if any is.
 *
 * Which way is better is read from the figure's name: rates and throughput
 * (`rate`, `mbps`, `calls`) are better higher, everything else (latency,
 * setup time) lower. Raw baselines inside a bench (`raw…`) are shown but
 * never judged: they measure the machine, not our code; the ratios to them
 * are judged, and are the figures to trust on a noisy machine.
 *
 * ```sh
 * deno task bench:compare --task bench:mesh --base HEAD~3 --rounds 3 -- --quick
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    task: { type: "string", default: "bench" },
    base: { type: "string", default: "HEAD~1" },
    rounds: { type: "string", default: "3" },
    tolerance: { type: "string", default: "5" },
  },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const tolerance = Number(values.tolerance) / 100;
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds takes a whole number ≥ 1");
if (!(tolerance >= 0)) throw new Error("--tolerance takes a percentage ≥ 0");

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "inherit" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}) in ${cwd ?? "."}`);
  return text;
}

/** Numeric leaves of a JSON value, by dotted path (arrays of per-run values are skipped). */
export function figures(value: unknown, prefix = ""): Map<string, number> {
  const out = new Map<string, number>();
  if (typeof value === "number" && Number.isFinite(value)) out.set(prefix, value);
  else if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [path, n] of figures(v, prefix ? `${prefix}.${k}` : k)) out.set(path, n);
    }
  }
  return out;
}

/**
 * +1 when higher is better, -1 when lower is better, 0 when not judged (raw
 * baselines, sample counts, parameters). A `ratio` (ours ÷ raw, measured in
 * the same run, so the least noisy figure) goes the way of its figure.
 */
export function direction(path: string): number {
  const p = path.toLowerCase();
  if (/(^|\.)(raw\w*|runs|cpus|samples|params|quick|target|pass)(\.|$)/.test(p)) return 0;
  if (/rate|mbps|calls|throughput/.test(p)) return 1;
  return -1;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function bench(cwd: string): Promise<Map<string, number>> {
  const text = await run(Deno.execPath(), ["task", values.task!, ...positionals], cwd);
  const line = text.split("\n").findLast((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`no BENCH_JSON line from ${values.task} in ${cwd}`);
  return figures(JSON.parse(line.slice("BENCH_JSON ".length)));
}

if (import.meta.main) {
  const here = Deno.cwd();
  const rev = (await run("git", ["rev-parse", "--short", values.base!])).trim();
  const head = (await run("git", ["rev-parse", "--short", "HEAD"])).trim();
  const tree = await Deno.makeTempDir({ prefix: "macula-bench-base-" });
  await run("git", ["worktree", "add", "--detach", "--force", tree, rev]);
  const samples = { base: new Map<string, number[]>(), head: new Map<string, number[]>() };
  try {
    for (let i = 0; i < rounds; i++) {
      for (const [side, cwd] of [["base", tree], ["head", here]] as const) {
        console.error(`== round ${i + 1}/${rounds}: ${side} (${side === "base" ? rev : head})`);
        for (const [path, n] of await bench(cwd)) {
          const list = samples[side].get(path) ?? [];
          list.push(n);
          samples[side].set(path, list);
        }
      }
    }
  } finally {
    await run("git", ["worktree", "remove", "--force", tree]).catch(() => {});
  }
  let regressions = 0;
  console.log(`\n${values.task}: ${rev} (base) vs ${head}, median of ${rounds} interleaved runs each`);
  console.log(`${"figure".padEnd(44)} ${"base".padStart(12)} ${"this".padStart(12)}  ratio  verdict`);
  for (const [path, baseRuns] of samples.base) {
    const headRuns = samples.head.get(path);
    if (!headRuns) continue;
    const b = median(baseRuns);
    const h = median(headRuns);
    const dir = direction(path);
    const ratio = b === 0 ? 1 : h / b;
    const worse = dir === 0 ? 0 : dir > 0 ? 1 - ratio : ratio - 1;
    const verdict = dir === 0
      ? "(baseline)"
      : worse > tolerance
      ? "REGRESSION"
      : worse < -tolerance
      ? "better"
      : "same";
    if (verdict === "REGRESSION") regressions++;
    console.log(
      `${path.padEnd(44)} ${b.toPrecision(5).padStart(12)} ${h.toPrecision(5).padStart(12)}  ${
        ratio.toFixed(3)
      }  ${verdict}`,
    );
  }
  console.log(regressions ? `${regressions} figure(s) more than ${values.tolerance} % worse` : "no regression");
  Deno.exit(regressions ? 1 : 0);
}
