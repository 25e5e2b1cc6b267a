/**
 * The compiled Deno binary gets exactly the declared permission set (the
 * `macula` task's flags). Since a compiled binary cannot be run here
 * without a denort, `main.ts` runs under exactly that set instead, through
 * a node's whole life: start, connect (QUIC and TCP), status, peers, id,
 * shutdown. A permission the code needs but the set lacks fails this test.
 */
import { launch, type MaculaProcess } from "../../cross-compile/launch.ts";
import { readDeclaredPermissions } from "../../cross-compile/permissions.ts";
import { run } from "../../cross-compile/run.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startPermissions } from "../helpers/cli.ts";
import { eventually, ignoreWithReason, ROOT, TEST_NODE_ENV } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
/** The file scope of the declared set: the default data dir, and the system one. */
const DATA_DIR_GRANT = [".macula", "/var/lib/macula"];
const SYSTEM_DATA_DIR = "/var/lib/macula";

function notRoot(): string | undefined {
  return Deno.uid() === 0 ? undefined : `needs root to create directories under ${SYSTEM_DATA_DIR} (uid ${Deno.uid()})`;
}

Deno.test("the compile permission set is the declared one: scoped, with --unstable-net, no -A", async () => {
  const flags = await readDeclaredPermissions(ROOT);
  assertEquals(flags, startPermissions(), "the build and the CLI tests read the same declaration");
  assert(flags.includes("--unstable-net"), flags.join(" "));
  // Files: `.macula` of the working directory, and `/var/lib/macula` (the systemd unit's state directory).
  for (const kind of ["read", "write"]) {
    assert(flags.includes(`--allow-${kind}=${DATA_DIR_GRANT.join(",")}`), flags.join(" "));
  }
  assert(!flags.some((f) => f === "-A" || f === "--allow-all" || f === "--allow-run" || f === "--allow-ffi"));
  assert(flags.every((f) => f.startsWith("--allow-") || f.startsWith("--unstable-")), flags.join(" "));
});

Deno.test({
  name:
    "main.ts under exactly the compile permission set: start, connect over QUIC and TCP, status, peers, id, shutdown",
  ...opts,
  async fn() {
    const flags = await readDeclaredPermissions(ROOT);
    const scratch = `.macula/test-perms-${crypto.randomUUID().slice(0, 8)}`;
    const macula = (args: string[]) => [Deno.execPath(), "run", ...flags, "main.ts", ...args];
    const cli = (args: string[], env: Record<string, string> = {}) =>
      run(Deno.execPath(), ["run", ...flags, "main.ts", ...args], { cwd: ROOT, env: { NO_COLOR: "1", ...env } });
    const start = (name: string, extra: string[] = [], env: Record<string, string> = {}) =>
      launch(
        macula([
          "start",
          "--data-dir",
          `${scratch}/${name}`,
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--health-port",
          "0",
          ...extra,
        ]),
        { cwd: ROOT, env: { ...TEST_NODE_ENV, ...env } },
      );
    const nodes: MaculaProcess[] = [];
    try {
      const a = await start("a");
      nodes.push(a);
      const status = (await a.get("/status")) as { id: string; addrs: string[] };
      const quic = status.addrs.find((x) => x.startsWith("quic://"));
      const tcp = status.addrs.find((x) => x.startsWith("tcp://"));
      assert(quic && tcp, `QUIC and TCP listening: ${status.addrs}`);
      const b = await start("b", ["--seed", quic]);
      nodes.push(b);
      // Seeds from the environment and JSON logs exercise the env permission.
      const c = await start("c", [], { MACULA_SEEDS: tcp, MACULA_LOG_FORMAT: "json" });
      nodes.push(c);
      const bId = ((await b.get("/status")) as { id: string }).id;
      const cId = ((await c.get("/status")) as { id: string }).id;
      await eventually(
        async () => {
          const peers = (await a.get("/peers")) as Array<{ id: string; transport: string }>;
          return peers.some((p) => p.id === bId && p.transport === "quic") &&
            peers.some((p) => p.id === cId && p.transport === "tcp");
        },
        20_000,
        "a to list b (QUIC) and c (TCP)",
      );

      const st = await cli(["status", "--health-port", String(a.healthPort)]);
      assertEquals(st.code, 0, st.stderr);
      assert(st.stdout.includes(status.id) && st.stdout.includes("peers    2"), st.stdout);
      const peers = await cli(["peers", "--json"], { HEALTH_PORT: String(b.healthPort) });
      assertEquals(peers.code, 0, peers.stderr);
      assert((JSON.parse(peers.stdout) as Array<{ id: string }>).some((p) => p.id === status.id), peers.stdout);
      const id = await cli(["id"], { MACULA_DATA_DIR: `${scratch}/a` });
      assertEquals(id.stdout.trim(), status.id, id.stderr);

      for (const [node, signal] of [[c, "SIGTERM"], [b, "SIGINT"], [a, "SIGTERM"]] as const) {
        assertEquals(await node.stop(signal), 0, node.lines.join("\n"));
      }
      for (const node of nodes) {
        const log = node.lines.join("\n");
        assert(/node stopped/.test(log), log);
        assert(!/permission|NotCapable|Requires .* access|QUIC is unavailable/i.test(log), log);
      }
    } finally {
      for (const node of nodes) await node.stop("SIGKILL");
      await Deno.remove(`${ROOT}/${scratch}`, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "main.ts under exactly the compile permission set with default settings: every default-on service starts",
  ...opts,
  async fn() {
    const flags = await readDeclaredPermissions(ROOT);
    const scratch = `.macula/test-perms-${crypto.randomUUID().slice(0, 8)}`;
    let node: MaculaProcess | undefined;
    try {
      // No environment beyond the inherited one: whatever `deno task start` turns on by default runs here.
      node = await launch([
        Deno.execPath(),
        "run",
        ...flags,
        "main.ts",
        "start",
        "--data-dir",
        scratch,
        "--port",
        "0",
        "--health-port",
        "0",
      ], { cwd: ROOT });
      const status = (await node.get("/status")) as { id: string; addrs: string[] };
      assert(status.addrs.some((a) => a.startsWith("quic://")) && status.addrs.some((a) => a.startsWith("tcp://")));
      await new Promise((r) => setTimeout(r, 2_000)); // let periodic work (announcements, rescans) run once
      assertEquals(await node.stop("SIGTERM"), 0, node.lines.join("\n"));
      const log = node.lines.join("\n");
      assert(!/permission|NotCapable|Requires .* access/i.test(log), log);
    } finally {
      await node?.stop("SIGKILL");
      await Deno.remove(`${ROOT}/${scratch}`, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "main.ts under exactly the compile permission set: a data dir under /var/lib/macula works, one beside it is refused",
  ignore: ignoreWithReason("data dir under /var/lib/macula", notRoot()),
  ...opts,
  async fn() {
    const flags = await readDeclaredPermissions(ROOT);
    const cli = (args: string[]) =>
      run(Deno.execPath(), ["run", ...flags, "main.ts", ...args], { cwd: ROOT, env: { NO_COLOR: "1" } });
    const suffix = crypto.randomUUID().slice(0, 8);
    // Leave an existing /var/lib/macula (a real install) alone: only remove what this test created.
    const existed = await Deno.stat(SYSTEM_DATA_DIR).then(() => true, () => false);
    const inside = `${SYSTEM_DATA_DIR}/test-${suffix}`;
    const beside = `${SYSTEM_DATA_DIR}-test-${suffix}`; // shares the prefix, but is outside the grant
    try {
      const first = await cli(["id", "--data-dir", inside]);
      assertEquals(first.code, 0, first.stderr);
      const did = first.stdout.trim();
      assert(did.startsWith("did:key:z6Mk"), did);
      assertEquals((await Deno.stat(`${inside}/identity.key`)).mode! & 0o777, 0o600);
      const again = await cli(["id", "--data-dir", inside]);
      assertEquals(again.stdout.trim(), did, "the identity is read back");
      for (const outside of [beside, `/var/tmp/macula-outside-${suffix}`]) {
        const refused = await cli(["id", "--data-dir", outside]);
        assertEquals(refused.code, 1, refused.stderr);
        const lines = refused.stderr.trim().split("\n");
        assertEquals(lines.length, 1, refused.stderr);
        assert(lines[0].startsWith("macula: permission denied:"), lines[0]);
        assert(await Deno.stat(outside).then(() => false, () => true), `${outside} was not created`);
      }
    } finally {
      await Deno.remove(existed ? inside : SYSTEM_DATA_DIR, { recursive: true }).catch(() => {});
      await Deno.remove(beside, { recursive: true }).catch(() => {});
    }
  },
});
