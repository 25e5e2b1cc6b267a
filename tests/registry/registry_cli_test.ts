/**
 * The registry through the real CLI: `macula registry publish` on one
 * `macula start` process, `list`, `info` and `install` on another that
 * finds it through the mesh; a missing release and a bad name are clear
 * errors with non-zero exits.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, runCli, scratchDir, startNode } from "../helpers/cli.ts";
import { addrOf, ROOT } from "../content/helpers/cli_content.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function registry(node: NodeProcess, ...args: string[]) {
  return runCli(["registry", ...args, "--health-port", String(node.healthPort)]);
}

Deno.test({
  name: "registry CLI: publish on one node, list/info/install on another; errors are clear",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      await Deno.writeTextFile(`${ROOT}/${dir.path}/agent-1.4.0`, "#!/bin/sh\necho sensor-agent 1.4.0\n");
      const a = await startNode(["--data-dir", `${dir.path}/a`]);
      nodes.push(a);
      const b = await startNode(["--data-dir", `${dir.path}/b`, "--seed", await addrOf(a)]);
      nodes.push(b);
      const pub = await registry(
        a,
        "publish",
        `${dir.path}/agent-1.4.0`,
        "--name",
        "io.acme.sensor-agent",
        "--version",
        "1.4.0",
        "--arch",
        "x86_64",
        "--notes",
        "first",
        "--json",
      );
      assertEquals(pub.code, 0, pub.stderr);
      const release = JSON.parse(pub.stdout);
      assertEquals(release.version, "1.4.0");
      const list = await registry(b, "list", "io.acme.sensor-agent");
      assertEquals(list.code, 0, list.stderr);
      assert(list.stdout.startsWith("io.acme.sensor-agent@1.4.0  x86_64"), list.stdout);
      const info = await registry(b, "info", "io.acme.sensor-agent@1.4.0", "--json");
      assertEquals(JSON.parse(info.stdout).notes, "first");
      const inst = await registry(b, "install", "io.acme.sensor-agent", "--dir", `${dir.path}/apps`);
      assertEquals(inst.code, 0, inst.stderr);
      const path = `${ROOT}/${dir.path}/apps/io.acme.sensor-agent@1.4.0`;
      assert(inst.stdout.includes(path), inst.stdout);
      assertEquals(await Deno.readTextFile(path), "#!/bin/sh\necho sensor-agent 1.4.0\n");
      const missing = await registry(b, "install", "io.acme.sensor-agent@9.9.9", "--dir", `${dir.path}/apps`);
      assertEquals(missing.code, 1);
      assert(missing.stderr.includes("no release of io.acme.sensor-agent@9.9.9"), missing.stderr);
      const badName = await registry(a, "publish", `${dir.path}/agent-1.4.0`, "--name", "acme", "--version", "1.0.0");
      assertEquals(badName.code, 1);
      assert(badName.stderr.startsWith("macula: "), badName.stderr);
      const badVersion = await registry(
        a,
        "publish",
        `${dir.path}/agent-1.4.0`,
        "--name",
        "io.acme.sensor-agent",
        "--version",
        "1.4",
      );
      assertEquals(badVersion.code, 1);
      assert(badVersion.stderr.includes("not semver"), badVersion.stderr);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await dir.cleanup();
    }
  },
});
