/**
 * The real CLI, in child processes, under exactly the declared permission
 * set. The first test is the README quickstart.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { runCli, scratchDir, startNode } from "../helpers/cli.ts";
import { until } from "../helpers/nodes.ts";
import { VERSION } from "../../src/version.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "quickstart: two nodes, the second seeded from the first's /status; `macula peers` on each lists the other",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const a = await startNode(["--data-dir", `${dir.path}/a`]);
    let b;
    try {
      const status = (await a.get("/status")) as { id: string; addrs: string[]; realm: string; version: string };
      assert(status.id.startsWith("did:key:z6Mk"));
      assertEquals(status.realm, "default");
      assertEquals(status.version, VERSION);
      const seed = status.addrs[0];
      assert(seed.startsWith("quic://127.0.0.1:") && seed.endsWith(status.id), seed);
      b = await startNode(["--data-dir", `${dir.path}/b`, "--seed", seed]);
      const bId = ((await b.get("/status")) as { id: string }).id;
      const peersOf = async (port: number) => {
        const r = await runCli(["peers", "--health-port", String(port), "--json"]);
        assertEquals(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as Array<{ id: string; transport: string }>;
      };
      await until(async () => (await peersOf(a.healthPort)).some((p) => p.id === bId), 15_000, "a to list b");
      const fromB = await peersOf(b.healthPort);
      assertEquals(fromB.map((p) => p.id), [status.id]);
      assertEquals(fromB[0].transport, "quic");
      // The human-readable forms work too.
      const table = await runCli(["peers", "--health-port", String(b.healthPort)]);
      assert(table.stdout.includes(status.id), table.stdout);
      const st = await runCli(["status", "--health-port", String(a.healthPort)]);
      assertEquals(st.code, 0);
      assert(st.stdout.includes(status.id));
      assertEquals(await b.stop("SIGTERM"), 0);
      assertEquals(await a.stop("SIGINT"), 0);
      assert(a.lines.some((l) => l.includes("node stopped")), "clean shutdown logged");
    } finally {
      await a.stop("SIGKILL");
      await b?.stop("SIGKILL");
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "a TCP seed works the same way",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const a = await startNode(["--data-dir", `${dir.path}/a`]);
    let b;
    try {
      const status = (await a.get("/status")) as { id: string; addrs: string[] };
      const tcpSeed = status.addrs.find((x) => x.startsWith("tcp://"))!;
      b = await startNode(["--data-dir", `${dir.path}/b`], { env: { MACULA_SEEDS: tcpSeed } });
      await until(async () => ((await b!.get("/peers")) as unknown[]).length === 1, 15_000, "b to connect");
      const peers = (await b.get("/peers")) as Array<{ id: string; transport: string }>;
      assertEquals(peers[0].id, status.id);
      assertEquals(peers[0].transport, "tcp");
    } finally {
      await a.stop("SIGKILL");
      await b?.stop("SIGKILL");
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "`macula id` creates the identity once and prints the same did:key the node uses",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    try {
      const first = await runCli(["id", "--data-dir", `${dir.path}/n`]);
      assertEquals(first.code, 0, first.stderr);
      const did = first.stdout.trim();
      assert(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/.test(did), did);
      assertEquals((await runCli(["id"], { env: { MACULA_DATA_DIR: `${dir.path}/n` } })).stdout.trim(), did);
      const node = await startNode(["--data-dir", `${dir.path}/n`]);
      try {
        assertEquals(((await node.get("/status")) as { id: string }).id, did);
      } finally {
        await node.stop();
      }
    } finally {
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "HTTP endpoints: /health, /ready, /status, /peers, /metrics; unknown paths 404",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const node = await startNode(["--data-dir", `${dir.path}/n`, "--realm", "io.example.app"]);
    try {
      const base = `http://127.0.0.1:${node.healthPort}`;
      const health = await fetch(`${base}/health`);
      assertEquals(health.status, 200);
      await health.body?.cancel();
      assertEquals((await node.get("/ready")) as unknown, { status: "ready" });
      const status = (await node.get("/status")) as Record<string, unknown>;
      assertEquals(status.realm, "io.example.app");
      assert(Array.isArray(status.addrs) && status.addrs.length >= 2);
      assertEquals(await node.get("/peers"), []);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert(metrics.includes("# TYPE macula_peers gauge"));
      assert(metrics.includes("macula_peers 0"));
      const missing = await fetch(`${base}/nope`);
      assertEquals(missing.status, 404);
      await missing.body?.cancel();
      const post = await fetch(`${base}/status`, { method: "POST" });
      assertEquals(post.status, 405);
      await post.body?.cancel();
    } finally {
      await node.stop();
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "--log-format json: every log line is a JSON object",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const node = await startNode(["--data-dir", `${dir.path}/n`, "--log-format", "json"]);
    try {
      assertEquals(await node.stop(), 0);
      const logs = node.lines.filter((l) => l.trim() !== "");
      assert(logs.length >= 3);
      for (const line of logs) {
        const entry = JSON.parse(line);
        assert(typeof entry.time === "string" && typeof entry.level === "string" && typeof entry.msg === "string");
      }
    } finally {
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "--help on every command; --version names version, target and runtime",
  ...opts,
  async fn() {
    const commands = ["start", "id", "status", "peers", "pub", "sub", "call", "dht", "version"];
    const main = await runCli(["--help"]);
    assertEquals(main.code, 0, main.stderr);
    for (const command of commands) {
      assert(main.stdout.includes(`macula ${command}`), `top-level help lists ${command}`);
      const r = await runCli([command, "--help"]);
      assertEquals(r.code, 0, `${command} --help: ${r.stderr}`);
      assert(r.stdout.includes("Usage"), `${command} --help`);
    }
    const v = await runCli(["--version"]);
    assertEquals(v.code, 0);
    assert(v.stdout.startsWith(`macula ${VERSION} (linux-`), v.stdout);
    assert(v.stdout.includes("deno 2."), v.stdout);
  },
});

Deno.test({
  name: "errors: one clear line and a non-zero exit",
  ...opts,
  async fn() {
    const cases: Array<{ args: string[]; env?: Record<string, string>; code: number; includes: string }> = [
      { args: ["frobnicate"], code: 2, includes: "unknown command" },
      { args: ["start", "--bogus"], code: 2, includes: "--bogus" },
      { args: ["start", "--port", "99999"], code: 2, includes: "--port" },
      { args: ["start"], env: { MACULA_QUIC_PORT: "abc" }, code: 2, includes: "MACULA_QUIC_PORT" },
      { args: ["start"], env: { HEALTH_PORT: "-1" }, code: 2, includes: "HEALTH_PORT" },
      { args: ["start", "--seed", "quic://127.0.0.1:9443"], code: 2, includes: "did:key" },
      { args: ["start", "--log-format", "xml"], code: 2, includes: "--log-format" },
      { args: ["start", "--realm", "bad realm"], code: 2, includes: "--realm" },
      { args: ["status", "--health-port", "1"], code: 1, includes: "no node answered" },
    ];
    for (const c of cases) {
      const r = await runCli(c.args, { env: c.env });
      const lines = r.stderr.trim().split("\n");
      assertEquals(r.code, c.code, `${c.args.join(" ")}: ${r.stderr}`);
      assertEquals(lines.length, 1, `one line expected for ${c.args.join(" ")}, got:\n${r.stderr}`);
      assert(lines[0].startsWith("macula: ") && lines[0].includes(c.includes), lines[0]);
    }
  },
});

Deno.test({
  name: "a data dir outside the permitted scope: one line naming the missing permission",
  ...opts,
  async fn() {
    const r = await runCli(["id", "--data-dir", "/var/tmp/macula-outside-scope"]);
    assertEquals(r.code, 1);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].startsWith("macula: permission denied:"), lines[0]);
    assert(lines[0].includes("--allow-read") || lines[0].includes("--allow-write"), lines[0]);
  },
});

Deno.test({
  name: "missing --unstable-net and network permission: one clear line",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    try {
      const r = await runCli(["start", "--data-dir", `${dir.path}/n`, "--port", "0", "--health-port", "0"], {
        permissions: ["--allow-read=.macula", "--allow-write=.macula", "--allow-env", "--allow-sys"],
      });
      assertEquals(r.code, 1, r.stderr);
      const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("macula: "));
      assertEquals(errors.length, 1, r.stderr);
      assert(errors[0].includes("permission denied") && errors[0].includes("net"), errors[0]);
    } finally {
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "a busy health port is a clear error and the node does not linger",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const a = await startNode(["--data-dir", `${dir.path}/a`]);
    try {
      const r = await runCli([
        "start",
        "--data-dir",
        `${dir.path}/b`,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--health-port",
        String(a.healthPort),
      ]);
      assertEquals(r.code, 1);
      const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("macula: "));
      assertEquals(errors.length, 1, r.stderr);
      assert(errors[0].includes(`${a.healthPort}`) && errors[0].includes("--health-port"), errors[0]);
    } finally {
      await a.stop();
      await dir.cleanup();
    }
  },
});
