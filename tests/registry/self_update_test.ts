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
import { checkCandidateNode, HealthCheckError } from "../../src/registry/health-check.ts";

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
      const marker = JSON.parse(await Deno.readTextFile(`${exec}.pending`));
      assertEquals([marker.version, marker.previous, marker.attempts], ["0.2.0", `${exec}.prev`, 0]);
      // now current
      assertEquals((await selfUpdate(node.registry, options("0.2.0", "stable"))).updated, false);

      // a candidate that lies about its version fails its health check: nothing changes
      await pub.registry.publish(says("0.2.0"), { name: channelName("beta"), version: "0.3.0" });
      const health = await assertRejects(() => selfUpdate(node.registry, options("0.2.0", "beta")), SelfUpdateError);
      assertEquals((health as SelfUpdateError).code, "E_SELF_UPDATE_HEALTH");
      assertEquals(await versionOf(exec), "0.2.0");
      assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
        "macula",
        "macula.pending",
        "macula.prev",
      ]);

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

/** A "binary" that answers `--version` and, started as a node, serves `/health` (and `/ready` unless `noReady`). */
const nodeScript = (version: string, noReady = false) =>
  script(`case "$1" in --version) echo "macula ${version} (linux-x86_64, test)"; exit 0;; esac
while [ $# -gt 0 ]; do case "$1" in --data-dir) d=$2; shift;; --health-port) p=$2; shift;; esac; shift; done
: > "$d/health"; ${noReady ? "" : `: > "$d/ready"`}
exec python3 -m http.server "$p" --bind 127.0.0.1 --directory "$d"`);
const exits = (version: string) =>
  script(`case "$1" in --version) echo "macula ${version} (linux-x86_64, test)"; exit 0;; esac; exit 3`);
/** Hangs without answering; its child's pid goes to `$0.child`. */
const hangs = script(`sleep 600 & echo $! > "$0.child"; wait`);

const nodeCheck = (timeoutMs: number) => ({
  spawn: platform.process.spawn!.bind(platform.process),
  tcp: platform.tcp,
  timeoutMs,
});

Deno.test({
  name: "self-update: the candidate must start as a node and answer /health and /ready; else refused, binary untouched",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-self-update-node-" });
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain");
    const [pub, node] = nodes;
    try {
      const exec = `${dir}/macula`;
      await Deno.writeFile(exec, nodeScript("0.1.0"), { mode: 0o755 });
      const options = (current: string, channel: string) => ({
        channel,
        arch: "x86_64",
        current,
        execPath: exec,
        fs: platform.fs,
        run: platform.process.run!.bind(platform.process),
        timeoutMs: 10_000,
        node: nodeCheck(20_000),
        now: () => 1234,
      });
      // a candidate that exits when started as a node: refused, named, nothing changed
      await pub.registry.publish(exits("0.2.0"), { name: channelName("beta"), version: "0.2.0" });
      const bad = await assertRejects(() => selfUpdate(node.registry, options("0.1.0", "beta")), SelfUpdateError);
      assertEquals((bad as SelfUpdateError).code, "E_SELF_UPDATE_HEALTH");
      assert(/exited \(code 3\) before answering/.test((bad as Error).message), (bad as Error).message);
      assertEquals(await versionOf(exec), "0.1.0");
      assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["macula"]);

      // a healthy one is swapped in and leaves the pending marker
      await pub.registry.publish(nodeScript("0.2.0"), { name: channelName("stable"), version: "0.2.0" });
      const r = await selfUpdate(node.registry, options("0.1.0", "stable"));
      assertEquals(r, { updated: true, from: "0.1.0", to: "0.2.0", previous: `${exec}.prev` });
      assertEquals(await versionOf(exec), "0.2.0");
      assertEquals(JSON.parse(await Deno.readTextFile(`${exec}.pending`)), {
        version: "0.2.0",
        previous: `${exec}.prev`,
        time: 1234,
        attempts: 0,
      });
      // no health data directory is left behind
      assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
        "macula",
        "macula.pending",
        "macula.prev",
      ]);
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "self-update health check: a candidate that hangs or never answers /ready is refused and killed (process group)",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-health-" });
    try {
      const hang = `${dir}/.macula.candidate`;
      await Deno.writeFile(hang, hangs, { mode: 0o755 });
      const check = { ...nodeCheck(1_500), fs: platform.fs, dir };
      const e = await assertRejects(() => checkCandidateNode(hang, check), HealthCheckError);
      assertEquals((e as HealthCheckError).code, "E_SELF_UPDATE_HEALTH");
      assert(/did not answer \/health within 1500 ms/.test((e as Error).message), (e as Error).message);
      // the shell's child (same process group) is gone too
      const child = Number(await Deno.readTextFile(`${hang}.child`));
      assert(child > 0);
      let alive = true;
      for (let i = 0; i < 50 && alive; i++) {
        alive = await Deno.stat(`/proc/${child}`).then(() => true, () => false);
        if (alive) await new Promise((r) => setTimeout(r, 100));
      }
      assert(!alive, `process ${child} survived the health check`);

      const noReady = `${dir}/.noready.candidate`;
      await Deno.writeFile(noReady, nodeScript("0.2.0", true), { mode: 0o755 });
      const e2 = await assertRejects(() => checkCandidateNode(noReady, { ...check, ...nodeCheck(6_000) }));
      assert(/did not answer \/ready within 6000 ms/.test((e2 as Error).message), (e2 as Error).message);

      const missing = await assertRejects(() => checkCandidateNode(`${dir}/nothing`, check), HealthCheckError);
      assert(/exited \(killed or not started\)/.test((missing as Error).message), (missing as Error).message);
      // the temporary data directories are removed
      assert(!(await Array.fromAsync(Deno.readDir(dir))).some((x) => x.name.startsWith(".health-")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
