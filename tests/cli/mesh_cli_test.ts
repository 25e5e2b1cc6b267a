/**
 * Five real `macula start` processes on loopback in a chain (each seeded
 * only from its neighbour); pub/sub and RPC between the two ends through the
 * real CLI (`macula sub`, `pub`, `call`); killing the provider that serves a
 * stream of calls makes them fail over to the other provider.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, spawnCli, startNode, waitFor } from "../helpers/cli.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "five CLI nodes in a chain: pub/sub and RPC between the ends; killing a provider fails calls over",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const args = ["--data-dir", `${dir.path}/n${i}`];
        if (i > 0) {
          const status = (await nodes[i - 1].get("/status")) as { addrs: string[] };
          args.push("--seed", status.addrs[0]);
        }
        if (i >= 3) args.push("--echo", "chain.echo"); // two providers at the far end
        nodes.push(await startNode(args));
      }
      const addr = async (n: NodeProcess) => ((await n.get("/status")) as { addrs: string[] }).addrs[0];
      const [first, last] = [await addr(nodes[0]), await addr(nodes[4])];
      const common = ["--host", "127.0.0.1", "--timeout", "4000"];

      // pub/sub: a subscriber joined at one end, a publisher at the other.
      const sub = spawnCli(["sub", "chain.news.*", "--seed", last, "--count", "3", ...common]);
      await waitFor(
        () => sub.err.some((l) => l.includes("subscribed to")),
        30_000,
        "subscription",
        () => sub.err.join("\n"),
      );
      for (let i = 1; i <= 3; i++) {
        const pub = spawnCli(["pub", "chain.news.today", JSON.stringify({ n: i }), "--seed", first, ...common]);
        const status = await pub.done;
        assertEquals(status.code, 0, pub.err.join("\n"));
        assert(JSON.parse(pub.out[0]).subscribers >= 1, pub.out.join("\n"));
      }
      assertEquals((await sub.done).code, 0, sub.err.join("\n"));
      const messages = sub.out.map((l) => JSON.parse(l));
      assertEquals(messages.map((m) => m.payload), [{ n: 1 }, { n: 2 }, { n: 3 }]);
      assert(messages.every((m) => m.topic === "chain.news.today"));

      // RPC: one call from the other end.
      const one = spawnCli(["call", "chain.echo", '{"hello":"mesh"}', "--seed", first, ...common]);
      assertEquals((await one.done).code, 0, one.err.join("\n"));
      const answer = JSON.parse(one.out[0]);
      assertEquals(answer.args, { hello: "mesh" });

      // A stream of calls; kill the provider serving it; the rest fail over.
      const ids = await Promise.all(nodes.map(async (n) => ((await n.get("/status")) as { id: string }).id));
      const calls = spawnCli([
        "call",
        "chain.echo",
        "{}",
        "--seed",
        first,
        "--count",
        "30",
        "--interval",
        "100",
        ...common,
      ]);
      await waitFor(() => calls.out.length >= 5, 30_000, "first calls", () => calls.err.join("\n"));
      const servedBy = JSON.parse(calls.out[calls.out.length - 1]).result.node as string;
      const victim = ids.indexOf(servedBy);
      assert(victim === 3 || victim === 4, `served by an unexpected node ${servedBy}`);
      await nodes[victim].stop("SIGKILL");
      const status = await calls.done;
      const results = calls.out.map((l) => JSON.parse(l));
      assertEquals(results.length, 30);
      const failed = results.filter((r) => r.error);
      assertEquals(failed, [], "every call succeeded (failing over when needed)");
      const survivors = new Set(results.slice(-5).map((r) => r.result.node));
      assertEquals([...survivors], [ids[victim === 3 ? 4 : 3]], "later calls were served by the other provider");
      assertEquals(status.code, 0);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});
