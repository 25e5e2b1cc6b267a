/**
 * Content over a relayed connection through the real CLI: a relay R, a
 * private provider B reserved at R (`--relay-via`, `--no-punch`: on one
 * host a punch would succeed at once), and a fetcher seeded only with B's
 * relayed address. The bytes arrive verified, and R's byte counter shows
 * they went through it.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, startNode, waitFor } from "../helpers/cli.ts";
import { addrOf, content, counter, metricsOf, publish, randomFile, sha256File } from "./helpers/cli_content.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MiB = 1024 * 1024;

Deno.test({
  name: "content CLI: fetch from a private provider over a relayed connection",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const r = await startNode(["--data-dir", `${dir.path}/r`, "--relay", "--relay-limit", "circuitRate=0"]);
      nodes.push(r);
      const b = await startNode(["--data-dir", `${dir.path}/b`, "--relay-via", await addrOf(r), "--no-punch"]);
      nodes.push(b);
      let bRelayed = "";
      await waitFor(
        async () => {
          bRelayed = ((await b.get("/status")) as { addrs: string[] }).addrs.find((a) => a.includes("/circuit/")) ?? "";
          return bRelayed !== "";
        },
        15_000,
        "B's reservation",
      );
      const input = `${dir.path}/input.bin`;
      const size = 4 * MiB;
      await randomFile(input, size);
      const mcid = await publish(b, input);
      const fetcher = await startNode(["--data-dir", `${dir.path}/f`, "--seed", bRelayed, "--no-punch"]);
      nodes.push(fetcher);
      await waitFor(
        async () => ((await fetcher.get("/peers")) as Array<{ route: string }>).some((p) => p.route === "relayed"),
        15_000,
        "the fetcher connected to B through R",
      );
      const before = counter(await metricsOf(r), "macula_relay_bytes_total");
      const out = `${dir.path}/out.bin`;
      const res = await content(fetcher, "fetch", mcid, "-o", out);
      assertEquals(res.code, 0, res.stderr);
      assertEquals(await sha256File(out), await sha256File(input));
      const relayed = counter(await metricsOf(r), "macula_relay_bytes_total") - before;
      assert(relayed >= size, `R forwarded ${relayed} bytes for a ${size}-byte fetch`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});
