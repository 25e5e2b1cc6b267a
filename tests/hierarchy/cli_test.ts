/**
 * The real CLI with a locality: `macula start --locality … --bridge …` (and
 * `MACULA_LOCALITY`) joins the level overlays and runs the hierarchy; a bad
 * locality is refused with a message naming its source.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { runCli, scratchDir, startNode } from "../helpers/cli.ts";

Deno.test({
  name: "cli: --locality and --bridge put the node in its level overlays; a bad locality is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await scratchDir();
    const a = await startNode(["--data-dir", `${dir.path}/a`, "--bridge", "1"], {
      env: { MACULA_LOCALITY: "eu/be" },
    });
    try {
      const status = (await a.get("/status")) as {
        realms: string[];
        hierarchy: { locality: string; levels: { own: number; top: number } };
      };
      assertEquals(status.realms, ["default", "default@eu/be", "default@eu"]);
      assertEquals(status.hierarchy.locality, "eu/be");
      assertEquals(status.hierarchy.levels, { own: 2, top: 1 });
    } finally {
      await a.stop("SIGKILL");
      await dir.cleanup();
    }
    const bad = await runCli(["start", "--locality", "eu//be", "--port", "0", "--health-port", "0"]);
    assert(bad.code !== 0);
    assert(bad.stderr.includes("--locality"), bad.stderr);
    const tooHigh = await runCli(["start", "--locality", "eu", "--bridge", "3", "--port", "0", "--health-port", "0"]);
    assert(tooHigh.code !== 0);
    assert(tooHigh.stderr.includes("--bridge"), tooHigh.stderr);
  },
});
