/**
 * The content store through the real CLI: a fetcher SIGKILLed mid-fetch
 * and restarted on the same data dir fetches only (about) the missing part;
 * quota, LRU eviction, pin and rm; the boundary sizes 0, 1, 16384 and 16385
 * through publish and fetch (to a file and to stdout).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, startNode, startPermissions, waitFor } from "../helpers/cli.ts";
import { hashBytes } from "../../src/content/tree.ts";
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

type Entry = { mcid: string; size: number; bytes: number; complete: boolean; pinned: boolean; names?: string[] };

async function ls(node: NodeProcess): Promise<Entry[]> {
  const r = await content(node, "ls", "--json");
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test({
  name: "content CLI: the fetcher SIGKILLed mid-fetch and restarted resumes, fetching about the missing part only",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const input = `${dir.path}/input.bin`;
      const size = 16 * MiB;
      await randomFile(input, size);
      const provider = await startNode(["--data-dir", `${dir.path}/p`, "--content-upload-rate", "4M"]);
      nodes.push(provider);
      const mcid = await publish(provider, input);
      const seed = ["--seed", await addrOf(provider)];
      let fetcher = await startNode(["--data-dir", `${dir.path}/f`, ...seed]);
      nodes.push(fetcher);
      const out = `${dir.path}/out.bin`;
      const first = content(fetcher, "fetch", mcid, "-o", out, "--quiet");
      await waitFor(
        async () => (await transferBytes(fetcher, mcid)) >= size * 0.6,
        20_000,
        "60 % of the transfer (one flush: every 8 MiB)",
      );
      await fetcher.stop("SIGKILL");
      const r1 = await first;
      assertEquals(r1.code, 1, "the first fetch fails with its node");
      assert(r1.stderr.startsWith("macula: "), r1.stderr);
      assertEquals([...Deno.readDirSync(`${ROOT}/${dir.path}`)].filter((e) => e.name.startsWith(".out.bin")), []);

      fetcher = await startNode(["--data-dir", `${dir.path}/f`, ...seed]);
      nodes.push(fetcher);
      const partial = (await ls(fetcher)).find((e) => e.mcid === mcid);
      assert(partial && !partial.complete && partial.bytes > 0, `a partial entry survived: ${JSON.stringify(partial)}`);
      const r2 = await content(fetcher, "fetch", mcid, "-o", out);
      assertEquals(r2.code, 0, r2.stderr);
      assertEquals(await sha256File(out), await sha256File(input));
      const fetched = counter(await metricsOf(fetcher), "macula_content_fetched_bytes_total");
      const missing = size - partial.bytes;
      console.log(`resume: ${(partial.bytes / MiB).toFixed(1)} MiB kept, ${(fetched / MiB).toFixed(1)} MiB fetched`);
      assert(fetched >= missing, `fetched ${fetched} < missing ${missing}`);
      assert(fetched <= missing + MiB, `fetched ${fetched}, but only ${missing} were missing`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "content CLI: quota and LRU eviction, pin protects, unpin, rm removes; a file over the quota is refused",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const node = await startNode(["--data-dir", `${dir.path}/n`, "--content-quota", "1M"]);
      nodes.push(node);
      const files = ["a", "b", "c", "d"].map((n) => `${dir.path}/${n}.bin`);
      for (const f of files) await randomFile(f, 400 * 1024);
      await randomFile(`${dir.path}/big.bin`, 2 * MiB);
      const a = await publish(node, files[0], "--pin");
      const b = await publish(node, files[1]);
      assertEquals((await ls(node)).map((e) => [e.mcid, e.pinned]).sort(), [[a, true], [b, false]].sort());
      const c = await publish(node, files[2]); // evicts b (a is pinned)
      assertEquals((await ls(node)).map((e) => e.mcid).sort(), [a, c].sort());
      assertEquals((await content(node, "unpin", a)).code, 0);
      assertEquals((await content(node, "pin", c)).stdout.trim(), `pinned ${c}`);
      const d = await publish(node, files[3], "--name", "io.acme.plant3.firmware"); // evicts a (unpinned now, c pinned)
      assertEquals((await ls(node)).map((e) => e.mcid).sort(), [c, d].sort());
      assertEquals((await ls(node)).find((e) => e.mcid === d)?.names, ["io.acme.plant3.firmware"]);
      const badName = await content(node, "publish", files[3], "--name", "io acme");
      assertEquals(badName.code, 1);
      assert(badName.stderr.includes("content name") && badName.stderr.trim().split("\n").length === 1, badName.stderr);

      const big = await content(node, "publish", `${dir.path}/big.bin`);
      assertEquals(big.code, 1);
      assert(big.stderr.includes("quota"), big.stderr);
      assertEquals(big.stderr.trim().split("\n").length, 1, big.stderr);

      const rm = await content(node, "rm", c);
      assertEquals([rm.code, rm.stdout.trim()], [0, `removed ${c}`]);
      assertEquals((await ls(node)).map((e) => e.mcid), [d]);
      const again = await content(node, "rm", c);
      assertEquals(again.code, 1);
      assert(again.stderr.includes("not stored"), again.stderr);
      const text = await content(node, "ls");
      assert(text.stdout.startsWith(d) && text.stdout.includes("complete"), text.stdout);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "content CLI: sizes 0, 1, 16384 and 16385 through publish and fetch (to a file and to stdout)",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const provider = await startNode(["--data-dir", `${dir.path}/p`]);
      nodes.push(provider);
      const fetcher = await startNode(["--data-dir", `${dir.path}/f`, "--seed", await addrOf(provider)]);
      nodes.push(fetcher);
      for (const size of [0, 1, 16384, 16385]) {
        const input = `${dir.path}/in-${size}.bin`;
        await randomFile(input, size);
        const mcid = await publish(provider, input);
        const out = `${dir.path}/out-${size}.bin`;
        const r = await content(fetcher, "fetch", mcid, "-o", out);
        assertEquals(r.code, 0, `${size}: ${r.stderr}`);
        assertEquals(await sha256File(out), await sha256File(input), `size ${size}`);
        const again = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            ...startPermissions(),
            "main.ts",
            "content",
            "fetch",
            mcid,
            "--quiet",
            "--health-port",
            String(fetcher.healthPort),
          ],
          cwd: ROOT,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertEquals(again.code, 0, new TextDecoder().decode(again.stderr));
        assertEquals(again.stdout, await Deno.readFile(`${ROOT}/${input}`), `stdout, size ${size}`);
      }
      // An id nobody has: a one-line "not found" and exit code 1, no output file.
      const { mcid: nobody } = await hashBytes(crypto.getRandomValues(new Uint8Array(100)));
      const none = await content(fetcher, "fetch", nobody.toString(), "-o", `${dir.path}/none.bin`, "--quiet");
      assertEquals(none.code, 1, none.stderr);
      assert(none.stderr.includes("not found") && none.stderr.trim().split("\n").length === 1, none.stderr);
      assertEquals(await Deno.stat(`${ROOT}/${dir.path}/none.bin`).then(() => true, () => false), false);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});
