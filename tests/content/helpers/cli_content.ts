/**
 * Test helpers for the content CLI tests: random files under the scratch
 * dir, their SHA-256, `macula content …` against a node, and counters read
 * from a node's /metrics.
 */
import type { NodeProcess } from "../../helpers/cli.ts";
import { runCli } from "../../helpers/cli.ts";

/** The repository root (the CLI runs there; scratch paths are relative to it). */
export const ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");

/** Write `size` random bytes to `path` (relative to the root), 1 MiB at a time. */
export async function randomFile(path: string, size: number): Promise<void> {
  const file = await Deno.open(`${ROOT}/${path}`, { write: true, create: true, truncate: true });
  try {
    const chunk = new Uint8Array(1 << 20);
    for (let done = 0; done < size;) {
      const n = Math.min(chunk.length, size - done);
      for (let i = 0; i < n; i += 65536) crypto.getRandomValues(chunk.subarray(i, Math.min(n, i + 65536)));
      let off = 0;
      while (off < n) off += await file.write(chunk.subarray(off, n));
      done += n;
    }
  } finally {
    file.close();
  }
}

/** SHA-256 (hex) of a file, via sha256sum (no whole-file buffer in the test). */
export async function sha256File(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", { args: [`${ROOT}/${path}`], stdout: "piped" }).output();
  if (!out.success) throw new Error(`sha256sum ${path} failed`);
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}

/** Run `macula content <args> --health-port <node's>`. */
export function content(
  node: NodeProcess,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(["content", ...args, "--health-port", String(node.healthPort)]);
}

/** Publish `path` on `node`; returns the MCID (throws with the CLI's stderr on failure). */
export async function publish(node: NodeProcess, path: string, ...flags: string[]): Promise<string> {
  const r = await content(node, "publish", path, ...flags);
  if (r.code !== 0) throw new Error(`publish ${path} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** A node's /metrics text. */
export async function metricsOf(node: NodeProcess): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${node.healthPort}/metrics`)).text();
}

/** The sum of every sample of metric `name` (any labels) in a /metrics text. */
export function counter(metrics: string, name: string): number {
  let sum = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, "gm"))) sum += Number(m[1]);
  return sum;
}

/** The first address a node reports in /status. */
export async function addrOf(node: NodeProcess): Promise<string> {
  return ((await node.get("/status")) as { addrs: string[] }).addrs[0];
}

/** The bytes of a transfer of `mcid` in progress on `node`, or -1 if there is none. */
export async function transferBytes(node: NodeProcess, mcid: string): Promise<number> {
  try {
    const list = await node.get("/content/transfers") as Array<{ mcid: string; bytes: number }>;
    return list.find((t) => t.mcid === mcid)?.bytes ?? -1;
  } catch {
    return -1;
  }
}
