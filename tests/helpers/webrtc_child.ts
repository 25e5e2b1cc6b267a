/**
 * Runs a file of WebRTC test cases in a child `deno test`. node-datachannel
 * is a native addon: Deno loads it once per process, and a second test
 * file (another isolate) touching it panics ("Handle hosted by disposed
 * Isolate"). So each file of cases runs alone in its own process; the
 * parent test fails when any case fails, and prints the child's report.
 */
import { assertEquals } from "./assert.ts";

const ROOT = new URL("../../", import.meta.url);

/** Run `deno test` on `cases` (a path from the repository root); throws unless every case passed. */
export async function runCases(cases: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-check", "--allow-all", "--unstable-net", cases], // type-checked by `deno task check`
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const { code, stdout, stderr } = await child.output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  console.log(out.split("\n").filter((l) => l.trim() && !l.startsWith("Check ")).join("\n"));
  assertEquals(code, 0, `${cases} failed (exit code ${code})`);
}
