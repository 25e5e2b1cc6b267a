/**
 * `macula state get|set|delete|watch` against two real `macula start`
 * processes on loopback: a write through one node's status port is watched
 * and read on the other; the map survives a restart of the data dir's node.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, runCli, scratchDir, spawnCli, startNode, waitFor } from "../helpers/cli.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "state CLI: set on one node, watch and get on another, delete; the map survives a restart and a SIGKILL",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      nodes.push(await startNode(["--data-dir", `${dir.path}/a`]));
      const seed = ((await nodes[0].get("/status")) as { addrs: string[] }).addrs[0];
      nodes.push(await startNode(["--data-dir", `${dir.path}/b`, "--seed", seed]));
      const [a, b] = nodes;
      const at = (n: NodeProcess) => ["--health-port", String(n.healthPort)];
      const watch = spawnCli(["state", "watch", "fleet", "mode", "--count", "1", ...at(b)]);
      await waitFor(
        () => watch.err.some((l) => l.includes("watching state fleet")),
        30_000,
        "watch",
        () => watch.err.join("\n"),
      );
      const set = await runCli(["state", "set", "fleet", "mode", '{"level":"eco"}', ...at(a)]);
      assertEquals(set.code, 0, set.stderr);
      assertEquals(JSON.parse(set.stdout), { key: "mode", value: { level: "eco" } });
      assertEquals((await watch.done).code, 0, watch.err.join("\n"));
      const change = JSON.parse(watch.out[0]);
      assertEquals([change.key, change.value, change.deleted, change.local], ["mode", { level: "eco" }, false, false]);
      const got = await runCli(["state", "get", "fleet", "mode", ...at(b)]);
      assertEquals(JSON.parse(got.stdout), { key: "mode", found: true, value: { level: "eco" } });
      await runCli(["state", "set", "fleet", "other", "1", ...at(b)]);
      await waitFor(
        async () => {
          const r = await runCli(["state", "get", "fleet", ...at(a)]);
          return JSON.stringify(JSON.parse(r.stdout).entries) === JSON.stringify({ mode: { level: "eco" }, other: 1 });
        },
        20_000,
        "b's write on a",
      );
      const del = await runCli(["state", "delete", "fleet", "other", ...at(a)]);
      assertEquals(JSON.parse(del.stdout), { key: "other", deleted: true });
      const bad = await runCli(["state", "set", "fleet", "k", "{not json", ...at(a)]);
      assert(bad.code !== 0 && bad.stderr.includes("value"), bad.stderr);
      const badName = await runCli(["state", "get", "../etc", "k", ...at(a)]);
      assert(badName.code === 1 && badName.stderr.includes("state name"), badName.stderr);
      // Restart a: the map is read back from its data dir.
      await a.stop();
      nodes[0] = await startNode(["--data-dir", `${dir.path}/a`]);
      const after = await runCli(["state", "get", "fleet", ...at(nodes[0])]);
      assertEquals(JSON.parse(after.stdout), { entries: { mode: { level: "eco" } } });
      // SIGKILL a moment after a write (past the 50 ms save delay): nothing is lost.
      await nodes[1].stop();
      await runCli(["state", "set", "fleet", "late", "42", ...at(nodes[0])]);
      await new Promise((r) => setTimeout(r, 500));
      await nodes[0].stop("SIGKILL");
      nodes[0] = await startNode(["--data-dir", `${dir.path}/a`]);
      const killed = await runCli(["state", "get", "fleet", "late", ...at(nodes[0])]);
      assertEquals(JSON.parse(killed.stdout), { key: "late", found: true, value: 42 });
    } finally {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
      await dir.cleanup();
    }
  },
});
