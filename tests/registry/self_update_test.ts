/**
 * Self-update logic with real processes as the binaries (small shell
 * scripts that answer `--version` like macula does), releases published
 * and fetched through in-memory nodes: an update swaps the binary and
 * keeps the previous one; a candidate that fails its health check changes
 * nothing; an installed binary that fails is rolled back; a current binary
 * is left alone. (The real Node single binaries: tests/cli/self_update_binary_test.ts.)
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork } from "../helpers/nodes.ts";
import { stopAll } from "../auth/helpers.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { channelName, selfUpdate, SelfUpdateError } from "../../src/registry/self-update.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const platform = currentPlatform();
const script = (body: string) => new TextEncoder().encode(`#!/bin/sh\n${body}\n`);
const says = (version: string) => script(`echo "macula ${version} (linux-x86_64, test)"`);

async function versionOf(path: string): Promise<string> {
  const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split(" ")[1] ?? `exit ${out.code}`;
}

Deno.test({
  name: "self-update: swaps in a healthy newer release keeping the previous; refuses unhealthy; rolls back",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-self-update-" });
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain");
    const [pub, node] = nodes;
    try {
      const exec = `${dir}/macula`;
      await Deno.writeFile(exec, says("0.1.0"), { mode: 0o755 });
      const options = (current: string, channel: string) => ({
        channel,
        arch: "x86_64",
        current,
        execPath: exec,
        fs: platform.fs,
        run: platform.process.run!.bind(platform.process),
        timeoutMs: 10_000,
      });
      await pub.registry.publish(says("0.2.0"), { name: channelName("stable"), version: "0.2.0", arch: "x86_64" });
      // another arch's release is not picked
      await pub.registry.publish(says("0.9.0"), { name: channelName("stable"), version: "0.9.0", arch: "aarch64" });
      const r = await selfUpdate(node.registry, options("0.1.0", "stable"));
      assertEquals(r, { updated: true, from: "0.1.0", to: "0.2.0", previous: `${exec}.prev` });
      assertEquals(await versionOf(exec), "0.2.0");
      assertEquals(await versionOf(`${exec}.prev`), "0.1.0");
      // now current
      assertEquals((await selfUpdate(node.registry, options("0.2.0", "stable"))).updated, false);

      // a candidate that lies about its version fails its health check: nothing changes
      await pub.registry.publish(says("0.2.0"), { name: channelName("beta"), version: "0.3.0" });
      const health = await assertRejects(() => selfUpdate(node.registry, options("0.2.0", "beta")), SelfUpdateError);
      assertEquals((health as SelfUpdateError).code, "E_SELF_UPDATE_HEALTH");
      assertEquals(await versionOf(exec), "0.2.0");
      assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), ["macula", "macula.prev"]);

      // healthy as a candidate, broken once installed: rolled back
      const tricky = script(`case "$0" in *candidate) echo "macula 0.4.0 (x)";; *) exit 1;; esac`);
      await pub.registry.publish(tricky, { name: channelName("edge"), version: "0.4.0" });
      const back = await assertRejects(() => selfUpdate(node.registry, options("0.2.0", "edge")), SelfUpdateError);
      assertEquals((back as SelfUpdateError).code, "E_SELF_UPDATE_ROLLED_BACK");
      assertEquals(await versionOf(exec), "0.2.0");
      assert(!(await Array.fromAsync(Deno.readDir(dir))).some((e) => e.name.endsWith(".candidate")));
      await assertRejects(() => selfUpdate(node.registry, options("0.2.0", "Bad Channel")), SelfUpdateError);
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
