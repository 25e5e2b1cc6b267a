/**
 * The Node platform, checked under Node itself: node_platform_check.ts is
 * bundled with the build's esbuild and run by the host's `node`.
 */
import { bundleForNode } from "../../cross-compile/bundle.ts";
import { buildCacheDir, installTools } from "../../cross-compile/cache.ts";
import { run, which } from "../../cross-compile/run.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { ignoreWithReason, ROOT } from "./helpers.ts";

Deno.test({
  name:
    "node platform: TCP (partial reads, backpressure, half-close), UDP and multicast, HTTP, files and process under Node",
  ignore: ignoreWithReason("node platform", !which("node") || !which("npm") ? "node/npm are not on PATH" : undefined),
}, async () => {
  const tools = await installTools(buildCacheDir());
  const dir = await Deno.makeTempDir({ prefix: "macula-node-platform-" });
  try {
    const bundle = `${dir}/check.cjs`;
    await bundleForNode({
      root: ROOT,
      esbuild: tools.esbuild,
      outFile: bundle,
      entry: "tests/cross-compile/node_platform_check.ts",
    });
    const r = await run("node", [bundle, "one", "--two"], { env: { MACULA_CHECK_ENV: "yes" } });
    assertEquals(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert(r.stdout.trim().endsWith("all checks passed"), r.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
