/**
 * Self-update with two real x86_64 Node single executables: 0.1.0 and the
 * same source stamped 0.2.0 at build time (`MACULA_BUILD_VERSION`). A node
 * running the 0.1.0 binary refuses a release that fails its health check
 * (binary unchanged, node still up), then updates to the signed 0.2.0
 * release: it answers, exits with code 75 (systemd restarts it), the binary
 * is 0.2.0 with 0.1.0 kept as `.prev`, and the new binary starts.
 *
 * The binaries are built once into `.macula/self-update-build/` (about
 * 25 s each) when `MACULA_SELF_UPDATE_BUILD=1`, and reused from there; CI
 * sets the variable (or restores that directory from its cache). Without
 * them the test is ignored and says why.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, runCli, scratchDir, startNode } from "../helpers/cli.ts";
import { launch } from "../../cross-compile/launch.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const CACHE = `${ROOT}/.macula/self-update-build`;
const BIN = "macula-0.1.0-linux-x86_64";
const have = (v: string) => {
  try {
    return Deno.statSync(`${CACHE}/${v}/${BIN}`).isFile;
  } catch {
    return false;
  }
};
const build = Deno.env.get("MACULA_SELF_UPDATE_BUILD") === "1";
const x86 = Deno.build.arch === "x86_64" && Deno.build.os === "linux";
const ready = x86 && ((have("v1") && have("v2")) || build);
if (!ready) {
  console.log(
    `self-update binary test ignored: ${
      x86 ? `no binaries in ${CACHE} (run with MACULA_SELF_UPDATE_BUILD=1 to build them)` : "needs linux x86_64"
    }`,
  );
}

async function buildOnce(v: string, stamp?: string): Promise<void> {
  if (have(v)) return;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build", "--target", "x86_64", "--runtime", "node", "--out", `${CACHE}/${v}`],
    cwd: ROOT,
    env: stamp ? { MACULA_BUILD_VERSION: stamp } : {},
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`build ${v} failed: ${new TextDecoder().decode(out.stderr)}`);
}

async function versionOf(path: string): Promise<string> {
  const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split(" ")[1] ?? `exit ${out.code}`;
}

Deno.test({
  name: "self-update CLI: a real 0.1.0 Node binary refuses an unhealthy release, updates to 0.2.0, exits 75, restarts",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildOnce("v1");
    await buildOnce("v2", "0.2.0");
    const dir = await scratchDir();
    const procs: NodeProcess[] = [];
    try {
      const bin = `${ROOT}/${dir.path}/bin/macula`;
      await Deno.mkdir(`${ROOT}/${dir.path}/bin`);
      await Deno.copyFile(`${CACHE}/v1/${BIN}`, bin);
      await Deno.chmod(bin, 0o755);
      const rel = `.macula/self-update-build`;
      const publisher = await startNode(["--data-dir", `${dir.path}/pub`]);
      procs.push(publisher);
      const publish = async (file: string, channel: string, version: string) => {
        const r = await runCli([
          "registry",
          "publish",
          file,
          "--name",
          `io.macula.node.${channel}`,
          "--version",
          version,
          "--arch",
          "x86_64",
          "--health-port",
          String(publisher.healthPort),
        ]);
        assertEquals(r.code, 0, r.stderr);
      };
      await publish(`${rel}/v2/${BIN}`, "stable", "0.2.0");
      await publish(`${rel}/v1/${BIN}`, "beta", "0.3.0"); // claims 0.3.0, answers 0.1.0: unhealthy
      const addrs = ((await publisher.get("/status")) as { addrs: string[] }).addrs;
      const seed = addrs.find((a) => a.startsWith("tcp://"))!;
      const start = () =>
        launch([bin, "start", "--host", "127.0.0.1", "--port", "0", "--health-port", "0", "--seed", seed], {
          cwd: `${ROOT}/${dir.path}`,
          env: { CLUSTER_STRATEGY: "off" },
          timeoutMs: 30_000,
        });
      const node = await start();
      procs.push(node);
      const update = (channel: string) =>
        runCli(["self-update", "--channel", channel, "--health-port", String(node.healthPort)]);

      const bad = await update("beta");
      assertEquals(bad.code, 1, bad.stdout);
      assert(bad.stderr.includes("failed its health check"), bad.stderr);
      assertEquals(await versionOf(bin), "0.1.0");
      assert(((await node.get("/health")) as { status?: string }) !== undefined, "still serving");

      const good = await update("stable");
      assertEquals(good.code, 0, good.stderr);
      assert(good.stdout.startsWith("updated 0.1.0 -> 0.2.0"), good.stdout);
      assertEquals((await node.child.status).code, 75, "exits with the restart code");
      assertEquals(await versionOf(bin), "0.2.0");
      assertEquals(await versionOf(`${bin}.prev`), "0.1.0");
      assertEquals(JSON.parse(await Deno.readTextFile(`${bin}.pending`)).version, "0.2.0");
      // what systemd does next: start the (new) binary again; ready, it confirms the update (marker removed)
      const after = await start();
      procs.push(after);
      const again = await runCli(["self-update", "--channel", "stable", "--health-port", String(after.healthPort)]);
      assertEquals(again.code, 0, again.stderr);
      assert(again.stdout.startsWith("up to date: 0.2.0"), again.stdout);
      assert(!(await Deno.stat(`${bin}.pending`).then(() => true, () => false)), "marker removed once ready");
      await after.stop();

      // had the first start of 0.2.0 crashed (attempts 1), the next start restores 0.1.0 and exits 75
      await Deno.copyFile(`${CACHE}/v1/${BIN}`, `${bin}.prev`);
      const marker = { version: "0.2.0", previous: `${bin}.prev`, time: Date.now(), attempts: 1 };
      await Deno.writeTextFile(`${bin}.pending`, JSON.stringify(marker));
      const crashed = await new Deno.Command(bin, {
        args: ["start", "--host", "127.0.0.1", "--port", "0", "--health-port", "0", "--cluster-strategy", "off"],
        cwd: `${ROOT}/${dir.path}`,
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(crashed.code, 75, new TextDecoder().decode(crashed.stderr));
      assertEquals(await versionOf(bin), "0.1.0");
      assert(!(await Deno.stat(`${bin}.pending`).then(() => true, () => false)), "marker removed by the rollback");

      // --auto-update: another 0.1.0 node finds the release on its own, updates and exits 75
      const bin2 = `${ROOT}/${dir.path}/bin2/macula`;
      await Deno.mkdir(`${ROOT}/${dir.path}/bin2`);
      await Deno.copyFile(`${CACHE}/v1/${BIN}`, bin2);
      await Deno.chmod(bin2, 0o755);
      const auto = await launch([
        bin2,
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--health-port",
        "0",
        "--seed",
        seed,
        "--auto-update",
        "stable",
        "--auto-update-interval",
        "2",
        "--data-dir",
        "auto-data",
      ], { cwd: `${ROOT}/${dir.path}`, env: { CLUSTER_STRATEGY: "off" }, timeoutMs: 30_000 });
      procs.push(auto);
      assertEquals((await auto.child.status).code, 75, "auto-update exits with the restart code");
      assertEquals(await versionOf(bin2), "0.2.0");
      assertEquals(await versionOf(`${bin2}.prev`), "0.1.0");
    } finally {
      await Promise.all(procs.map((p) => p.stop().catch(() => 0)));
      await dir.cleanup();
    }
  },
});
