/**
 * Content transfer through the real CLI: `macula start` processes on
 * loopback, `macula content publish` on providers, `macula content fetch -o`
 * on a fetcher seeded with them, SHA-256 of the output compared with the
 * input. Three providers share one fetch; a provider SIGKILLed mid-transfer;
 * a lying provider (a test double started through the library) is caught.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, startNode, startPermissions, waitFor } from "../helpers/cli.ts";
import { launch } from "../../cross-compile/launch.ts";
import {
  addrOf,
  content,
  counter,
  metricsOf,
  publish,
  randomFile,
  ROOT,
  sha256File,
  transferBytes,
} from "./helpers/cli_content.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MiB = 1024 * 1024;

/** Providers each publishing `file` (started and publishing in parallel), and a fetcher seeded with all of them. */
async function mesh(dir: string, file: string, providers: number, providerArgs: string[], nodes: NodeProcess[]) {
  const ps = await Promise.all(
    Array.from({ length: providers }, async (_, i) => {
      const p = await startNode(["--data-dir", `${dir}/p${i}`, ...providerArgs]);
      nodes.push(p);
      return p;
    }),
  );
  const ids = await Promise.all(ps.map((p) => publish(p, file)));
  assert(ids.every((id) => id === ids[0]), "every provider computes the same id");
  const seeds = (await Promise.all(ps.map(addrOf))).flatMap((a) => ["--seed", a]);
  const fetcher = await startNode(["--data-dir", `${dir}/f`, ...seeds]);
  nodes.push(fetcher);
  await waitFor(async () => ((await fetcher.get("/peers")) as unknown[]).length >= providers, 15_000, "fetcher peers");
  return { providers: ps, fetcher, mcid: ids[0] };
}

Deno.test({
  name: "content CLI: 3 providers, 1 fetcher, 64 MiB: output SHA-256 equals the input, each provider served a share",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const input = `${dir.path}/input.bin`;
      await randomFile(input, 64 * MiB);
      const { providers, fetcher, mcid } = await mesh(dir.path, input, 3, [], nodes);
      const out = `${dir.path}/out.bin`;
      const started = performance.now();
      const r = await content(fetcher, "fetch", mcid, "-o", out);
      const seconds = (performance.now() - started) / 1000;
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await sha256File(out), await sha256File(input));
      assert(r.stderr.includes("fetched 64.0 MiB"), r.stderr);
      const served = await Promise.all(
        providers.map(async (p) => counter(await metricsOf(p), "macula_content_served_bytes_total")),
      );
      for (const s of served) assert(s >= 4 * MiB, `each provider served a share: ${served.join(", ")}`);
      const fm = await metricsOf(fetcher);
      const dup = counter(fm, "macula_content_duplicate_bytes_total");
      console.log(
        `64 MiB from 3 providers in ${seconds.toFixed(2)} s (CLI process included); served ${
          served.map((s) => (s / MiB).toFixed(1)).join(" / ")
        } MiB; duplicate ${(dup / MiB).toFixed(2)} MiB`,
      );
      // Listed on the fetcher as complete; the temp file is gone.
      const ls = await content(fetcher, "ls", "--json");
      assert(JSON.parse(ls.stdout).some((e: { mcid: string; complete: boolean }) => e.mcid === mcid && e.complete));
      assertEquals([...Deno.readDirSync(`${ROOT}/${dir.path}`)].filter((e) => e.name.endsWith(".part")), []);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "content CLI: a provider SIGKILLed mid-transfer: the fetch completes from the others",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const input = `${dir.path}/input.bin`;
      const size = 24 * MiB;
      await randomFile(input, size);
      // 3 × 3 MiB/s: about 3 s for the whole transfer.
      const { providers, fetcher, mcid } = await mesh(dir.path, input, 3, ["--content-upload-rate", "3M"], nodes);
      const out = `${dir.path}/out.bin`;
      const fetch = content(fetcher, "fetch", mcid, "-o", out);
      await waitFor(async () => (await transferBytes(fetcher, mcid)) >= size / 5, 20_000, "a fifth of the transfer");
      const victim = providers[0];
      const servedBefore = counter(await metricsOf(victim), "macula_content_served_bytes_total");
      await victim.stop("SIGKILL");
      const r = await fetch;
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await sha256File(out), await sha256File(input));
      assert(servedBefore > 0, "the victim was serving when it died");
      const fm = await metricsOf(fetcher);
      assert(counter(fm, "macula_content_fetched_bytes_total") >= size, fm);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "content CLI: a lying provider is detected (bad blocks in /metrics) and the fetch completes correctly",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const input = `${dir.path}/input.bin`;
      const size = 8 * MiB;
      await randomFile(input, size);
      const liar = await launch(
        [Deno.execPath(), "run", ...startPermissions(), "tests/content/helpers/lying_provider.ts"],
        { cwd: ROOT, env: { CLUSTER_STRATEGY: "off" }, timeoutMs: 30_000 },
      );
      nodes.push(liar);
      const mcid = await publish(liar, input);
      // The honest provider serves slowly, so the liar gets asked for groups too.
      const honest = await startNode(["--data-dir", `${dir.path}/honest`, "--content-upload-rate", "4M"]);
      nodes.push(honest);
      assertEquals(await publish(honest, input), mcid);
      const fetcher = await startNode([
        "--data-dir",
        `${dir.path}/f`,
        "--seed",
        await addrOf(liar),
        "--seed",
        await addrOf(honest),
      ]);
      nodes.push(fetcher);
      await waitFor(async () => ((await fetcher.get("/peers")) as unknown[]).length >= 2, 15_000, "fetcher peers");
      const out = `${dir.path}/out.bin`;
      const r = await content(fetcher, "fetch", mcid, "-o", out);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await sha256File(out), await sha256File(input));
      const fm = await metricsOf(fetcher);
      assert(counter(fm, "macula_content_bad_blocks_total") >= 1, `bad blocks counted:\n${fm}`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});
