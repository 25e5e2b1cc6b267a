/**
 * Another project imports our `mod.ts` by URL, with its own deno.json and
 * none of our configuration (no import map of ours): the module must
 * resolve on its own (full `npm:` specifiers), start a node and stop it,
 * and Deno must print no resolution error and no build-script warning.
 */
import { assert, assertEquals } from "./helpers/assert.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

Deno.test("mod.ts imported from a foreign project (own deno.json) starts and stops a node", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-foreign-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ nodeModulesDir: "none" }, null, 2));
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { Node } from "${MOD}";
const node = await Node.start({ dataDir: ${JSON.stringify(`${dir}/data`)}, host: "127.0.0.1", port: 0 });
console.log("started", node.addrs.length > 0);
await node.stop();
console.log("stopped");
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        "--unstable-net",
        "main.ts",
      ],
      cwd: dir,
      env: { NO_COLOR: "1", CLUSTER_STRATEGY: "off" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, `exit ${out.code}\n${stdout}\n${stderr}`);
    assertEquals(stdout.trim().split("\n").slice(-2), ["started true", "stopped"], stdout);
    assert(!stderr.includes("not a dependency"), stderr);
    assert(!stderr.includes("Ignored build scripts"), stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
