/**
 * The Deno module graph of `mod.ts` (and of `main.ts`) must not load Node's
 * socket, HTTP, process or file modules: the Node platform is installed only
 * by the Node bundle's entry (cross-compile/node_main.ts). One exception,
 * loaded lazily: `src/platform/udp-preopen.ts` imports `node:dgram`
 * dynamically on first use, because only it can send a datagram with a TTL
 * under Deno (NAT pre-opening for hole punching).
 */
import { assert, assertEquals } from "../helpers/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Dynamic imports allowed in the Deno graph: importer (relative to the root) → built-in. */
const LAZY = new Map([["src/platform/udp-preopen.ts", "node:dgram"]]);

/** Node built-ins that only the Node platform may use. */
const FORBIDDEN = new Set([
  "node:net",
  "node:dgram",
  "node:http",
  "node:https",
  "node:http2",
  "node:tls",
  "node:dns",
  "node:fs",
  "node:fs/promises",
  "node:child_process",
  "node:worker_threads",
  "node:cluster",
  "node:os",
  "node:process",
]);

async function nodeBuiltins(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { specifier: string; isDynamic?: boolean; code?: { specifier?: string } }[];
    }[];
  };
  const found = new Set<string>();
  for (const module of info.modules) {
    // Every module but the entry is reached by an edge: the edges tell what is loaded, and how.
    for (const dep of module.dependencies ?? []) {
      const target = dep.code?.specifier ?? dep.specifier;
      const importer = module.specifier.replace(`file://${ROOT}`, "");
      if (dep.isDynamic && LAZY.get(importer) === target) continue;
      if (target.startsWith("node:")) found.add(target);
    }
  }
  return [...found].sort();
}

for (const entry of ["mod.ts", "main.ts"]) {
  Deno.test(`${entry}: the module graph has no node socket, process or file modules`, async () => {
    const builtins = await nodeBuiltins(entry);
    assertEquals(builtins.filter((name) => FORBIDDEN.has(name)), [], `node built-ins in the graph: ${builtins}`);
  });
}

Deno.test("the Node platform is in the graph of the Node bundle's entry", async () => {
  const builtins = await nodeBuiltins("cross-compile/node_main.ts");
  for (const name of ["node:net", "node:dgram", "node:http"]) {
    assert(builtins.includes(name), `${name} missing: ${builtins}`);
  }
});
