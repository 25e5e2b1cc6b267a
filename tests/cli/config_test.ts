import { startPermissions } from "../helpers/cli.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  announcesWebSocket,
  ConfigError,
  DEFAULTS,
  ENV_VARS,
  readEnv,
  resolveStartConfig,
  type StartFlags,
} from "../../src/cli/config.ts";
import { DEFAULT_PORT, DEFAULT_REALM } from "../../src/node/node.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { MaculaError } from "../../src/util/errors.ts";

const did1 = new NodeId(KeyPair.generate().publicKey).did;
const did2 = new NodeId(KeyPair.generate().publicKey).did;
const seed1 = `quic://10.0.0.1:9443/${did1}`;
const seed2 = `tcp://[fd00::2]:9444/${did2}`;

/** Expect a ConfigError whose message names `source`. */
function configError(env: Record<string, string>, flags: StartFlags, source: string): ConfigError {
  const e = assertThrows(() => resolveStartConfig(env, flags), ConfigError, source);
  assert(e instanceof MaculaError);
  assertEquals((e as ConfigError).code, "E_CONFIG");
  return e as ConfigError;
}

Deno.test("config: no env and no flags gives the defaults", () => {
  const cfg = resolveStartConfig({}, {});
  assertEquals(cfg, {
    dataDir: ".macula",
    host: "0.0.0.0",
    port: DEFAULT_PORT,
    healthHost: "127.0.0.1",
    healthPort: 8080,
    seeds: [],
    realms: [DEFAULT_REALM],
    logFormat: "text",
    logLevel: "info",
    cluster: { strategy: "gossip", group: "230.1.1.251", port: 45892, interfaces: [], swimPort: 0 },
    relay: { serve: false, via: [], peers: [], limits: {} },
    punch: true,
    content: { provide: true },
    auth: { env: { policies: {}, authorities: {} }, flags: { policies: {}, authorities: {} }, ucan: [], skew: 60 },
    consoleReadonly: false,
    ws: true,
  });
  assertEquals(cfg, DEFAULTS);
  assertEquals(DEFAULT_PORT, 9443);
});

Deno.test("config: resolving does not share or mutate the DEFAULTS arrays", () => {
  const cfg = resolveStartConfig({}, {});
  cfg.realms.push("mutated");
  cfg.seeds.push("mutated");
  assertEquals(DEFAULTS.realms, [DEFAULT_REALM]);
  assertEquals(DEFAULTS.seeds, []);
  assertEquals(resolveStartConfig({}, {}).realms, [DEFAULT_REALM]);
});

Deno.test("config: every environment variable overrides its default", () => {
  const cfg = resolveStartConfig({
    MACULA_DATA_DIR: "/var/lib/macula",
    MACULA_HOST: "192.168.1.5",
    MACULA_QUIC_PORT: "7000",
    MACULA_HEALTH_HOST: "0.0.0.0",
    HEALTH_PORT: "9090",
    MACULA_REALM: "io.example.app",
    MACULA_SEEDS: seed1,
    MACULA_LOG_FORMAT: "json",
    MACULA_LOG_LEVEL: "debug",
  }, {});
  assertEquals(cfg, {
    dataDir: "/var/lib/macula",
    host: "192.168.1.5",
    port: 7000,
    healthHost: "0.0.0.0",
    healthPort: 9090,
    seeds: [seed1],
    realms: ["io.example.app"],
    logFormat: "json",
    logLevel: "debug",
    cluster: DEFAULTS.cluster,
    relay: DEFAULTS.relay,
    punch: true,
    content: { provide: true },
    auth: DEFAULTS.auth,
    consoleReadonly: false,
    ws: true,
  });
});

Deno.test("config: flags override the environment", () => {
  const env = {
    MACULA_DATA_DIR: "/env",
    MACULA_HOST: "10.0.0.1",
    MACULA_QUIC_PORT: "7000",
    MACULA_HEALTH_HOST: "10.0.0.2",
    HEALTH_PORT: "9090",
    MACULA_REALM: "env-realm",
    MACULA_SEEDS: seed1,
    MACULA_LOG_FORMAT: "json",
    MACULA_LOG_LEVEL: "debug",
  };
  const cfg = resolveStartConfig(env, {
    "data-dir": "/flag",
    host: "::",
    port: "7001",
    "health-host": "localhost",
    "health-port": "9091",
    realm: ["flag-realm", "second.realm"],
    seed: [seed2],
    "log-format": "text",
    "log-level": "warn",
  });
  assertEquals(cfg, {
    dataDir: "/flag",
    host: "::",
    port: 7001,
    healthHost: "localhost",
    healthPort: 9091,
    seeds: [seed2],
    realms: ["flag-realm", "second.realm"],
    logFormat: "text",
    logLevel: "warn",
    cluster: DEFAULTS.cluster,
    relay: DEFAULTS.relay,
    punch: true,
    content: { provide: true },
    auth: DEFAULTS.auth,
    consoleReadonly: false,
    ws: true,
  });
});

Deno.test("config: flags not given leave env values in place", () => {
  const cfg = resolveStartConfig({ MACULA_QUIC_PORT: "7000", MACULA_REALM: "r1" }, { host: "127.0.0.1" });
  assertEquals(cfg.port, 7000);
  assertEquals(cfg.realms, ["r1"]);
  assertEquals(cfg.host, "127.0.0.1");
  // empty flag lists do not override
  const cfg2 = resolveStartConfig({ MACULA_REALM: "r1", MACULA_SEEDS: seed1 }, { realm: [], seed: [] });
  assertEquals(cfg2.realms, ["r1"]);
  assertEquals(cfg2.seeds, [seed1]);
});

Deno.test("config: empty environment values are ignored", () => {
  const env: Record<string, string> = {};
  for (const name of ENV_VARS) env[name] = "";
  assertEquals(resolveStartConfig(env, {}), DEFAULTS);
});

Deno.test("config: MACULA_SEEDS and MACULA_REALM are comma and/or whitespace separated", () => {
  const seed3 = `tcp://host.example:1/${did1}`;
  const cfg = resolveStartConfig({
    MACULA_SEEDS: ` ${seed1}, ${seed2}\n\t${seed3},, `,
    MACULA_REALM: "a.b, c-d  e_f,g",
  }, {});
  assertEquals(cfg.seeds, [seed1, seed2, seed3]);
  assertEquals(cfg.realms, ["a.b", "c-d", "e_f", "g"]);
});

Deno.test("config: seeds must carry the did:key suffix", () => {
  const e1 = configError({ MACULA_SEEDS: "quic://10.0.0.1:9443" }, {}, "MACULA_SEEDS");
  assert(e1.message.includes("node id"), e1.message);
  const e2 = configError({}, { seed: ["quic://10.0.0.1:9443"] }, "--seed");
  assert(e2.message.includes("did:key"), e2.message);
  // one bad seed in a list fails the whole list
  configError({ MACULA_SEEDS: `${seed1},tcp://1.2.3.4:5` }, {}, "MACULA_SEEDS");
  configError({}, { seed: [seed1, "junk"] }, "--seed");
  configError({}, { seed: [`tcp://1.2.3.4:5/did:key:zBAD`] }, "--seed");
  // flags are trimmed
  assertEquals(resolveStartConfig({}, { seed: [`  ${seed1} `] }).seeds, [seed1]);
});

Deno.test("config: invalid ports name the variable or flag", () => {
  for (const bad of ["abc", "65536", "99999", "-1", "1.5", "123456", "80x", " "]) {
    configError({ MACULA_QUIC_PORT: bad }, {}, "MACULA_QUIC_PORT");
    configError({ HEALTH_PORT: bad }, {}, "HEALTH_PORT");
    configError({}, { port: bad }, "--port");
    configError({}, { "health-port": bad }, "--health-port");
  }
  configError({}, { port: "" }, "--port");
  configError({}, { "health-port": "" }, "--health-port");
  const e = configError({}, { port: "65536" }, "--port");
  assert(e.message.includes('"65536"'), e.message);
});

Deno.test("config: port boundaries 0 and 65535 are accepted", () => {
  assertEquals(resolveStartConfig({}, { port: "0" }).port, 0);
  assertEquals(resolveStartConfig({}, { port: "65535" }).port, 65535);
  assertEquals(resolveStartConfig({ HEALTH_PORT: "0" }, {}).healthPort, 0);
  assertEquals(resolveStartConfig({ MACULA_QUIC_PORT: " 9000 " }, {}).port, 9000);
});

Deno.test("config: invalid hosts name the variable or flag", () => {
  for (const bad of ["", "has space", "a/b", "[::1]", "x".repeat(254), "host;rm"]) {
    configError({}, { host: bad }, "--host");
    configError({}, { "health-host": bad }, "--health-host");
    if (bad !== "") {
      configError({ MACULA_HOST: bad }, {}, "MACULA_HOST");
      configError({ MACULA_HEALTH_HOST: bad }, {}, "MACULA_HEALTH_HOST");
    }
  }
  // valid forms, trimmed
  assertEquals(resolveStartConfig({}, { host: " fd00::1 " }).host, "fd00::1");
  assertEquals(resolveStartConfig({}, { host: "node_1.example-x.org" }).host, "node_1.example-x.org");
});

Deno.test("config: invalid realms name the variable or flag", () => {
  for (const bad of ["-leading", ".dot", "has space", "x".repeat(64), "ünï", ""]) {
    configError({}, { realm: [bad] }, "--realm");
  }
  for (const bad of ["-leading", ".dot", "x".repeat(64), "a/b"]) {
    configError({ MACULA_REALM: bad }, {}, "MACULA_REALM");
  }
  assertEquals(resolveStartConfig({}, { realm: ["x".repeat(63)] }).realms, ["x".repeat(63)]);
});

Deno.test("config: invalid log format and level name the variable or flag", () => {
  for (const bad of ["xml", "JSON", "Text", " json"]) {
    configError({ MACULA_LOG_FORMAT: bad }, {}, "MACULA_LOG_FORMAT");
    configError({}, { "log-format": bad }, "--log-format");
  }
  configError({}, { "log-format": "" }, "--log-format");
  const e = configError({}, { "log-format": "xml" }, "--log-format");
  assert(e.message.includes("text, json"), e.message);
  for (const bad of ["trace", "INFO", "fatal"]) {
    configError({ MACULA_LOG_LEVEL: bad }, {}, "MACULA_LOG_LEVEL");
    configError({}, { "log-level": bad }, "--log-level");
  }
  for (const level of ["debug", "info", "warn", "error"] as const) {
    assertEquals(resolveStartConfig({}, { "log-level": level }).logLevel, level);
  }
});

Deno.test("config: an empty --data-dir is rejected", () => {
  configError({}, { "data-dir": "" }, "--data-dir");
});

Deno.test("config: readEnv asks for exactly the documented names and drops undefined ones", () => {
  assertEquals([...ENV_VARS], [
    "MACULA_QUIC_PORT",
    "MACULA_HOST",
    "MACULA_REALM",
    "MACULA_DATA_DIR",
    "MACULA_SEEDS",
    "MACULA_LOG_FORMAT",
    "MACULA_LOG_LEVEL",
    "MACULA_HEALTH_HOST",
    "HEALTH_PORT",
    "CLUSTER_STRATEGY",
    "CLUSTER_SECRET",
    "CLUSTER_GROUP",
    "CLUSTER_PORT",
    "CLUSTER_INTERFACES",
    "CLUSTER_SWIM_PORT",
    "MACULA_RELAY",
    "MACULA_RELAYS",
    "MACULA_RELAY_REALMS",
    "MACULA_RELAY_PEERS",
    "MACULA_RELAY_LIMITS",
    "MACULA_PUNCH",
    "MACULA_CONTENT_QUOTA",
    "MACULA_CONTENT_UPLOAD_RATE",
    "MACULA_CONTENT_UPLOADS",
    "MACULA_CONTENT_PROVIDE",
    "MACULA_REALM_POLICY",
    "MACULA_REALM_AUTHORITY",
    "MACULA_REALM_FILE",
    "MACULA_UCAN",
    "MACULA_CLOCK_SKEW",
    "MACULA_CONSOLE_READONLY",
    "MACULA_WS",
    "MACULA_LOCALITY",
    "MACULA_BRIDGE",
  ]);
  const asked: string[] = [];
  const source: Record<string, string> = {
    MACULA_QUIC_PORT: "7000",
    HEALTH_PORT: "",
    PATH: "/usr/bin",
    HOME: "/root",
    MACULA_UNKNOWN: "x",
  };
  const env = readEnv((name) => {
    asked.push(name);
    return source[name];
  });
  assertEquals(asked, [...ENV_VARS]);
  assertEquals(env, { MACULA_QUIC_PORT: "7000", HEALTH_PORT: "" });
  assertEquals(resolveStartConfig(env, {}).port, 7000);
});

Deno.test("config: the declared --allow-env list matches ENV_VARS", () => {
  const m = /^--allow-env=(\S+)$/.exec(startPermissions().find((f) => f.startsWith("--allow-env")) ?? "");
  assert(m, "the declared permission set should restrict env access");
  assertEquals(m[1].split(",").sort(), [...ENV_VARS].sort());
});

Deno.test("punching: on by default, MACULA_PUNCH=0 or --no-punch turns it off, a bad value is refused", () => {
  assertEquals(resolveStartConfig({}, {}).punch, true);
  assertEquals(resolveStartConfig({ MACULA_PUNCH: "0" }, {}).punch, false);
  assertEquals(resolveStartConfig({ MACULA_PUNCH: "1" }, { "no-punch": true }).punch, false);
  assertThrows(() => resolveStartConfig({ MACULA_PUNCH: "maybe" }, {}), ConfigError, "MACULA_PUNCH");
});

Deno.test("config: --console-readonly and MACULA_CONSOLE_READONLY turn the console's actions off", () => {
  assertEquals(resolveStartConfig({}, { "console-readonly": true }).consoleReadonly, true);
  assertEquals(resolveStartConfig({ MACULA_CONSOLE_READONLY: "1" }, {}).consoleReadonly, true);
  assertEquals(resolveStartConfig({ MACULA_CONSOLE_READONLY: "0" }, {}).consoleReadonly, false);
  configError({ MACULA_CONSOLE_READONLY: "maybe" }, {}, "MACULA_CONSOLE_READONLY");
});

Deno.test("ws: served by default, MACULA_WS=0 or --no-ws turns it off, a bad value is refused", () => {
  assertEquals(resolveStartConfig({}, {}).ws, true);
  assertEquals(resolveStartConfig({ MACULA_WS: "0" }, {}).ws, false);
  assertEquals(resolveStartConfig({ MACULA_WS: "1" }, { "no-ws": true }).ws, false);
  assertThrows(() => resolveStartConfig({ MACULA_WS: "maybe" }, {}), ConfigError, "MACULA_WS");
});

Deno.test("ws: announced when peers can reach the status server, not on loopback beside a reachable node", () => {
  assertEquals(announcesWebSocket(DEFAULTS), false);
  assertEquals(announcesWebSocket({ ...DEFAULTS, host: "127.0.0.1" }), true);
  assertEquals(announcesWebSocket({ ...DEFAULTS, healthHost: "0.0.0.0" }), true);
  assertEquals(announcesWebSocket({ ...DEFAULTS, healthHost: "192.168.1.20" }), true);
  assertEquals(announcesWebSocket({ ...DEFAULTS, healthHost: "0.0.0.0", ws: false }), false);
});
