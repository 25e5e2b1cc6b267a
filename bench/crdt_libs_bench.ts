/**
 * The CRDT libraries considered for replicated state, measured on this
 * machine: Yjs and Automerge (npm), against our own map (`src/state/`).
 * For each: import time (fresh process per library), 20,000 map writes over
 * 500 keys (writes/s) and the size of the encoded state afterwards. Sizes on
 * disk are read from the npm cache after the run.
 *
 * The libraries are not dependencies of the project: their specifiers are
 * built at run time (so `deno check` does not resolve them) and the bench
 * runs with `--no-lock` (the lock file stays as it is):
 *
 * `deno task bench:crdt-libs` (spawns one child per library; `--child NAME` is
 * the child's mode). Ends with one `BENCH_JSON {...}` line.
 *
 * @module
 */
import { Replica } from "../src/state/replica.ts";

const LIBS: Record<string, string> = { yjs: "yjs@13.6.27", automerge: "@automerge/automerge@2.2.9" };
const N = 20_000;

// deno-lint-ignore no-explicit-any
type Any = any;

async function child(name: string): Promise<void> {
  const t0 = performance.now();
  const lib: Any = name === "ours" ? { Replica } : await import(["npm", LIBS[name]].join(":"));
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  let bytes: number;
  if (name === "yjs") {
    const doc = new lib.Doc();
    const m = doc.getMap("m");
    for (let i = 0; i < N; i++) m.set(`k${i % 500}`, i);
    bytes = lib.encodeStateAsUpdate(doc).length;
  } else if (name === "automerge") {
    let doc = lib.from({ m: {} });
    for (let i = 0; i < N; i++) doc = lib.change(doc, (d: Any) => (d.m[`k${i % 500}`] = i));
    bytes = lib.save(doc).length;
  } else {
    const r = new Replica("ab".repeat(32));
    for (let i = 0; i < N; i++) r.set(`k${i % 500}`, i);
    const { encodeStateMessage } = await import("../src/state/messages.ts");
    bytes = encodeStateMessage({ t: "delta", realm: "r", name: "m", entries: r.all(), vector: r.vector() }).length;
  }
  const writesPerS = Math.round(N / ((performance.now() - t1) / 1000));
  console.log(JSON.stringify({ name, loadMs: Math.round(loadMs), writesPerS, stateBytes: bytes }));
}

if (Deno.args[0] === "--child") {
  await child(Deno.args[1]);
} else {
  const results = [];
  for (const name of ["ours", "yjs", "automerge"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", "--allow-read", "--allow-env", "--allow-net", import.meta.filename!, "--child", name],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!;
    const r = JSON.parse(line);
    results.push(r);
    console.log(`${name}: import ${r.loadMs} ms, ${r.writesPerS} writes/s, state ${r.stateBytes} bytes`);
  }
  console.log(`BENCH_JSON ${JSON.stringify(results)}`);
}
