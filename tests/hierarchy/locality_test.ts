/**
 * Locality paths, level overlays, scopes, the `Node.start` plug-in and the
 * CLI settings: good input works, bad input is a typed error (and 10,000
 * random paths either parse or throw `LocalityError`).
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import {
  levelRealm,
  LocalityError,
  MAX_LOCALITY_DEPTH,
  memberRealms,
  parseLocality,
  scopeLevel,
} from "../../src/hierarchy/locality.ts";
import { hierarchyPlugin } from "../../src/hierarchy/plugin.ts";
import { resolveLocality } from "../../src/cli/locality-flags.ts";
import { ConfigError } from "../../src/cli/config-error.ts";
import { resolveStartConfig } from "../../src/cli/config.ts";

Deno.test("locality: paths parse into segments; bad ones are LocalityError (E_LOCALITY)", () => {
  assertEquals(parseLocality("eu/be/brussels"), ["eu", "be", "brussels"]);
  assertEquals(parseLocality("a"), ["a"]);
  assertEquals(parseLocality("1/2/3/4/5/6/7/8").length, MAX_LOCALITY_DEPTH);
  for (const bad of ["", "/", "eu//be", "eu/", "/eu", "EU/be", "eu/b e", "1/2/3/4/5/6/7/8/9", "x".repeat(33), "-eu"]) {
    const e = assertThrows(() => parseLocality(bad), LocalityError);
    assertEquals((e as LocalityError).code, "E_LOCALITY");
  }
});

Deno.test("locality: level overlays are realms namespaced by the level prefix", () => {
  const path = ["eu", "be", "brussels"];
  assertEquals(levelRealm("default", path, 0), "default@");
  assertEquals(levelRealm("default", path, 2), "default@eu/be");
  assertEquals(memberRealms("default", path), ["default@eu/be/brussels"]);
  assertEquals(memberRealms("default", path, 2), ["default@eu/be/brussels", "default@eu/be", "default@eu"]);
  assertEquals(memberRealms("default", path, 3).at(-1), "default@");
  assertThrows(() => levelRealm("r".repeat(40), ["a".repeat(30)], 1), LocalityError, "64");
});

Deno.test("locality: scopes name the highest level a lookup may reach", () => {
  const path = ["eu", "be", "brussels"];
  assertEquals(scopeLevel(path, undefined), 0);
  assertEquals(scopeLevel(path, "global"), 0);
  assertEquals(scopeLevel(path, "local"), 3);
  assertEquals(scopeLevel(path, "eu"), 1);
  assertEquals(scopeLevel(path, "brussels"), 3);
  assertEquals(scopeLevel(path, 2), 2);
  assertThrows(() => scopeLevel(path, "paris"), LocalityError, "paris");
  assertThrows(() => scopeLevel(path, 4), LocalityError);
  assertThrows(() => scopeLevel(path, 1.5), LocalityError);
});

Deno.test("locality: the plug-in adds level realms, bridge roles and the service", () => {
  const plain = hierarchyPlugin({ port: 0 });
  assertEquals(plain.services.length, 0);
  const { options, services } = hierarchyPlugin({ realms: ["io.acme"], locality: "eu/be", bridge: 1, roles: ["x"] });
  assertEquals(options.realms, ["io.acme", "io.acme@eu/be", "io.acme@eu"]);
  assertEquals(options.roles, ["x", "bridge:io.acme@eu"]);
  assertEquals(services.map((s) => s.name), ["hierarchy"]);
  assertEquals(options.rpc?.locator?.realm, "io.acme", "RPC looks providers up through the hierarchy");
  assertEquals(hierarchyPlugin({ locality: "eu", bridge: true }).options.realms, ["default", "default@eu", "default@"]);
  assertThrows(() => hierarchyPlugin({ locality: "eu", bridge: 2 }), LocalityError, "bridge");
  assertThrows(() => hierarchyPlugin({ locality: "Eu" }), LocalityError);
});

Deno.test("locality: CLI settings from MACULA_LOCALITY / --locality and MACULA_BRIDGE / --bridge", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(resolveLocality(env({}), {}), { bridge: 0 });
  assertEquals(resolveLocality(env({ MACULA_LOCALITY: "eu/be", MACULA_BRIDGE: "1" }), {}), {
    locality: "eu/be",
    bridge: 1,
  });
  assertEquals(resolveLocality(env({ MACULA_LOCALITY: "eu/be" }), { locality: "us/ny", bridge: "2" }), {
    locality: "us/ny",
    bridge: 2,
  });
  assertThrows(() => resolveLocality(env({ MACULA_LOCALITY: "eu//be" }), {}), ConfigError, "MACULA_LOCALITY");
  assertThrows(() => resolveLocality(env({}), { locality: "a", bridge: "x" }), ConfigError, "--bridge");
  assertThrows(() => resolveLocality(env({}), { locality: "a", bridge: "2" }), ConfigError, "only 1");
  const cfg = resolveStartConfig({ MACULA_LOCALITY: "eu/be/brussels" }, { bridge: "1" });
  assertEquals(cfg.hierarchy, { locality: "eu/be/brussels", bridge: 1 });
});

Deno.test("locality: 10,000 random paths parse or throw LocalityError", () => {
  const random = rng(7);
  const alphabet = "abz09_.-/ AZ/é\u0000";
  let ok = 0;
  for (let i = 0; i < 10_000; i++) {
    const len = Math.floor(random() * 40);
    let s = "";
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(random() * alphabet.length)];
    try {
      const segs = parseLocality(s);
      assertEquals(segs.join("/"), s);
      ok++;
    } catch (error) {
      assert(error instanceof LocalityError, `case ${i}: ${(error as Error).constructor.name}`);
    }
  }
  assert(ok > 0);
});
