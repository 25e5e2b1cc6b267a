/** Cluster settings of `macula start`: defaults, environment, flags, validation, and the real CLI's answers. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { ConfigError, DEFAULTS, resolveStartConfig, type StartFlags } from "../../src/cli/config.ts";

function rejects(env: Record<string, string>, flags: StartFlags, source: string): string {
  return assertThrows(() => resolveStartConfig(env, flags), ConfigError, source).message;
}

Deno.test("cluster config: defaults are gossip on 230.1.1.251:45892, no secret, every interface", () => {
  assertEquals(DEFAULTS.cluster, {
    strategy: "gossip",
    group: "230.1.1.251",
    port: 45892,
    interfaces: [],
    swimPort: 0,
  });
  assertEquals(resolveStartConfig({}, {}).cluster.secret, undefined);
});

Deno.test("cluster config: environment, then flags", () => {
  const env = {
    CLUSTER_STRATEGY: "mdns",
    CLUSTER_SECRET: "env-secret-123",
    CLUSTER_GROUP: "239.1.2.3",
    CLUSTER_PORT: "5000",
    CLUSTER_INTERFACES: "eth0, wlan0",
    CLUSTER_SWIM_PORT: "7946",
  };
  assertEquals(resolveStartConfig(env, {}).cluster, {
    strategy: "mdns",
    secret: "env-secret-123",
    group: "239.1.2.3",
    port: 5000,
    interfaces: ["eth0", "wlan0"],
    swimPort: 7946,
  });
  const flags: StartFlags = {
    "cluster-strategy": "static",
    "cluster-secret": "flag-secret-456",
    "cluster-group": "224.0.1.9",
    "cluster-port": "6000",
    "cluster-interface": ["192.168.1.20"],
    "cluster-swim-port": "0",
  };
  assertEquals(resolveStartConfig(env, flags).cluster, {
    strategy: "static",
    secret: "flag-secret-456",
    group: "224.0.1.9",
    port: 6000,
    interfaces: ["192.168.1.20"],
    swimPort: 0,
  });
  assertEquals(resolveStartConfig({}, { "cluster-strategy": "off" }).cluster.strategy, "off");
});

Deno.test("cluster config: invalid values name the variable or flag and never echo a secret", () => {
  rejects({ CLUSTER_STRATEGY: "consul" }, {}, "CLUSTER_STRATEGY");
  rejects({}, { "cluster-strategy": "Gossip" }, "--cluster-strategy");
  const m = rejects({ CLUSTER_SECRET: "short7!" }, {}, "CLUSTER_SECRET");
  assert(!m.includes("short7!"), m);
  rejects({}, { "cluster-secret": "" }, "--cluster-secret");
  for (const bad of ["10.0.0.1", "240.0.0.1", "230.1.1", "group"]) {
    rejects({ CLUSTER_GROUP: bad }, {}, "CLUSTER_GROUP");
    rejects({}, { "cluster-group": bad }, "--cluster-group");
  }
  for (const bad of ["0", "65536", "x"]) {
    rejects({ CLUSTER_PORT: bad }, {}, "CLUSTER_PORT");
    rejects({}, { "cluster-port": bad }, "--cluster-port");
  }
  rejects({}, { "cluster-swim-port": "70000" }, "--cluster-swim-port");
  rejects({ CLUSTER_INTERFACES: "eth0,bad/name" }, {}, "CLUSTER_INTERFACES");
  rejects({}, { "cluster-interface": ["a-very-long-interface-name"] }, "--cluster-interface");
});

Deno.test({
  name: "cluster CLI: help lists the cluster flags; a bad value exits 2 naming the flag",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const help = await runCli(["start", "--help"]);
    assertEquals(help.code, 0);
    for (
      const flag of [
        "--cluster-strategy",
        "--cluster-secret",
        "--cluster-group",
        "--cluster-port",
        "--cluster-interface",
      ]
    ) {
      assert(help.stdout.includes(flag), flag);
    }
    const bad = await runCli(["start", "--cluster-group", "10.0.0.1"]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("--cluster-group"), bad.stderr);
    const badEnv = await runCli(["start"], { env: { CLUSTER_STRATEGY: "carrier-pigeon" } });
    assertEquals(badEnv.code, 2);
    assert(badEnv.stderr.includes("CLUSTER_STRATEGY"), badEnv.stderr);
  },
});
