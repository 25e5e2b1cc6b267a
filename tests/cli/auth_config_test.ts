/**
 * The authorization settings of `macula start`: realm policies and
 * authorities from the realm file, the environment and flags (in that
 * order of precedence), token files and the clock skew; every bad value a
 * ConfigError naming its source.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { addToLayer, emptyLayer, mergeRealms, parseRealmFile, readRealmFile } from "../../src/cli/auth-config.ts";
import { ConfigError, resolveStartConfig, type StartFlags } from "../../src/cli/config.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import { currentPlatform } from "../../src/platform/current.ts";

const did1 = encodeDidKey(KeyPair.generate().publicKey);
const did2 = encodeDidKey(KeyPair.generate().publicKey);
const did3 = encodeDidKey(KeyPair.generate().publicKey);

function realmsOf(env: Record<string, string>, flags: StartFlags, file?: string) {
  const cfg = resolveStartConfig(env, flags);
  return mergeRealms(cfg.auth, cfg.realms, file === undefined ? undefined : parseRealmFile(file, "realms.json"));
}

function configError(fn: () => unknown, ...includes: string[]): ConfigError {
  const e = assertThrows(fn, ConfigError) as ConfigError;
  assertEquals(e.code, "E_CONFIG");
  for (const s of includes) assert(e.message.includes(s), `${JSON.stringify(e.message)} should include ${s}`);
  return e;
}

Deno.test("auth config: by default every realm is open with no authority, 60 s of skew, no token file", () => {
  const cfg = resolveStartConfig({}, { realm: ["io.acme", "io.other"] });
  assertEquals(cfg.auth.skew, 60);
  assertEquals(cfg.auth.ucan, []);
  assertEquals(cfg.auth.realmFile, undefined);
  assertEquals(mergeRealms(cfg.auth, cfg.realms, undefined), {
    "io.acme": { policy: "open", authorities: [] },
    "io.other": { policy: "open", authorities: [] },
  });
});

Deno.test("auth config: --realm-policy closed closes every realm; REALM=P sets one; authorities per realm", () => {
  const all = realmsOf({}, {
    realm: ["io.acme", "io.other"],
    "realm-policy": ["closed"],
    "realm-authority": [`io.acme=${did1}`, `io.other=${did2}`, `io.acme=${did3}`, `io.acme=${did1}`],
  });
  assertEquals(all, {
    "io.acme": { policy: "closed", authorities: [did1, did3] },
    "io.other": { policy: "closed", authorities: [did2] },
  });
  const one = realmsOf({}, {
    realm: ["io.acme", "io.other"],
    "realm-policy": ["io.acme=closed"],
    "realm-authority": [`io.acme=${did1}`],
  });
  assertEquals(one["io.acme"].policy, "closed");
  assertEquals(one["io.other"], { policy: "open", authorities: [] });
  // "closed" for all, then one realm opened again.
  const mixed = realmsOf({}, {
    realm: ["io.acme", "io.public"],
    "realm-policy": ["io.public=open", "closed"],
    "realm-authority": [`io.acme=${did1}`],
  });
  assertEquals(mixed["io.acme"].policy, "closed");
  assertEquals(mixed["io.public"].policy, "open");
  // An authority on an open realm is fine (apps are admitted against it).
  assertEquals(realmsOf({}, { realm: ["io.acme"], "realm-authority": [`io.acme=${did1}`] })["io.acme"], {
    policy: "open",
    authorities: [did1],
  });
});

Deno.test("auth config: realm file < environment < flags, per realm", () => {
  const file = JSON.stringify({
    realms: {
      "io.acme": { policy: "closed", authorities: [did1] },
      "io.other": { policy: "closed", authorities: [did2] },
      "io.elsewhere": { policy: "closed", authorities: [did3] }, // a realm this node does not run in: ignored
    },
  });
  const realms = ["io.acme", "io.other"];
  assertEquals(realmsOf({}, { realm: realms }, file), {
    "io.acme": { policy: "closed", authorities: [did1] },
    "io.other": { policy: "closed", authorities: [did2] },
  });
  const env = { MACULA_REALM_POLICY: "io.other=open", MACULA_REALM_AUTHORITY: `io.acme=${did3}` };
  assertEquals(realmsOf(env, { realm: realms }, file), {
    "io.acme": { policy: "closed", authorities: [did3] },
    "io.other": { policy: "open", authorities: [did2] },
  });
  const flags: StartFlags = {
    realm: realms,
    "realm-policy": ["io.other=closed"],
    "realm-authority": [`io.acme=${did2}`],
  };
  assertEquals(realmsOf(env, flags, file), {
    "io.acme": { policy: "closed", authorities: [did2] },
    "io.other": { policy: "closed", authorities: [did2] },
  });
  // Comma- or space-separated lists in the environment.
  const listed = realmsOf({
    MACULA_REALM: "io.acme,io.other",
    MACULA_REALM_POLICY: "closed",
    MACULA_REALM_AUTHORITY: `io.acme=${did1}, io.other=${did2}`,
  }, {});
  assertEquals(listed["io.other"], { policy: "closed", authorities: [did2] });
});

Deno.test("auth config: a closed realm without authority is refused with the flag to add", () => {
  configError(
    () => realmsOf({}, { realm: ["io.acme"], "realm-policy": ["closed"] }),
    "closed realm io.acme needs at least one --realm-authority",
  );
  configError(
    () => realmsOf({ MACULA_REALM_POLICY: "io.acme=closed" }, { realm: ["io.acme"] }),
    "closed realm io.acme needs at least one --realm-authority",
  );
  configError(
    () => realmsOf({}, { realm: ["io.acme"] }, '{"realms":{"io.acme":{"policy":"closed"}}}'),
    "closed realm io.acme",
  );
});

Deno.test("auth config: bad DIDs, unknown policies, malformed items and unknown realms name their source", () => {
  const realm = ["io.acme"];
  configError(
    () => resolveStartConfig({}, { "realm-policy": ["shut"] }),
    "--realm-policy",
    "unknown realm policy",
    '"shut"',
  );
  configError(() => resolveStartConfig({}, { "realm-policy": ["io.acme=Closed"] }), "--realm-policy", '"Closed"');
  configError(() => resolveStartConfig({ MACULA_REALM_POLICY: "half" }, {}), "MACULA_REALM_POLICY");
  configError(() => resolveStartConfig({}, { "realm-policy": ["bad realm!=closed"] }), "--realm-policy");
  for (const bad of ["did:key:nope", "did:web:example.com", "io.acme", `${did1}x`, "did:key:z6Mk"]) {
    configError(() => resolveStartConfig({}, { "realm-authority": [`io.acme=${bad}`] }), "--realm-authority");
    configError(() => resolveStartConfig({ MACULA_REALM_AUTHORITY: `io.acme=${bad}` }, {}), "MACULA_REALM_AUTHORITY");
  }
  configError(() => resolveStartConfig({}, { "realm-authority": [did1] }), "--realm-authority", "REALM=did:key");
  configError(() => resolveStartConfig({}, { "realm-authority": [`=${did1}`] }), "--realm-authority");
  configError(
    () => realmsOf({}, { realm, "realm-policy": ["io.acmee=closed"], "realm-authority": [`io.acme=${did1}`] }),
    "--realm-policy",
    "does not run in realm",
    "io.acmee",
  );
  configError(
    () => realmsOf({ MACULA_REALM_AUTHORITY: `io.other=${did1}` }, { realm }),
    "MACULA_REALM_AUTHORITY",
    "io.other",
  );
  for (const bad of ["-1", "1.5", "x", "86401", ""]) {
    if (bad !== "") configError(() => resolveStartConfig({ MACULA_CLOCK_SKEW: bad }, {}), "MACULA_CLOCK_SKEW");
    configError(() => resolveStartConfig({}, { "clock-skew": bad }), "--clock-skew");
  }
  assertEquals(resolveStartConfig({ MACULA_CLOCK_SKEW: "5" }, {}).auth.skew, 5);
  assertEquals(resolveStartConfig({ MACULA_CLOCK_SKEW: "5" }, { "clock-skew": "0" }).auth.skew, 0);
  configError(() => resolveStartConfig({}, { ucan: [""] }), "--ucan");
  configError(() => resolveStartConfig({}, { "realm-file": "" }), "--realm-file");
});

Deno.test("auth config: token files from MACULA_UCAN, replaced by --ucan; the realm file from env or flag", () => {
  assertEquals(resolveStartConfig({ MACULA_UCAN: "a.ucan,b.ucan" }, {}).auth.ucan, ["a.ucan", "b.ucan"]);
  assertEquals(resolveStartConfig({ MACULA_UCAN: "a.ucan" }, { ucan: ["c.ucan"] }).auth.ucan, ["c.ucan"]);
  assertEquals(resolveStartConfig({ MACULA_REALM_FILE: "env.json" }, {}).auth.realmFile, "env.json");
  assertEquals(
    resolveStartConfig({ MACULA_REALM_FILE: "env.json" }, { "realm-file": "f.json" }).auth.realmFile,
    "f.json",
  );
});

Deno.test("auth config: an invalid realm file names the file and what is wrong", async () => {
  const bad: Array<[string, string]> = [
    ["{", "not JSON"],
    ["[]", "expected an object"],
    ['{"realm": {}}', 'unknown key "realm"'],
    ['{"realms": []}', '"realms" must be an object'],
    ['{"realms": {"io.acme": 1}}', 'realm "io.acme"'],
    ['{"realms": {"io.acme": {"policy": "shut"}}}', "unknown realm policy"],
    ['{"realms": {"io.acme": {"policy": 1}}}', '"policy" must be'],
    ['{"realms": {"io.acme": {"authorities": "did:key:z"}}}', '"authorities" must be an array'],
    ['{"realms": {"io.acme": {"authorities": ["did:key:zzz"]}}}', "did:key"],
    ['{"realms": {"io.acme": {"owner": "x"}}}', 'unknown key "owner"'],
    ['{"realms": {"bad realm": {}}}', "not a realm name"],
  ];
  for (const [text, why] of bad) {
    configError(() => parseRealmFile(text, "/etc/macula/realms.json"), "realm file /etc/macula/realms.json", why);
  }
  const layer = parseRealmFile(JSON.stringify({ realms: { "io.acme": { authorities: [did1, did1] } } }), "f");
  assertEquals(layer.authorities, { "io.acme": [did1] });
  const fs = currentPlatform().fs;
  const dir = await Deno.makeTempDir();
  try {
    const missing = await readRealmFile(fs, `${dir}/none.json`).catch((e) => e);
    assert(missing instanceof ConfigError && missing.message.includes(`${dir}/none.json`), String(missing));
    await Deno.writeTextFile(`${dir}/r.json`, JSON.stringify({ realms: { "io.acme": { policy: "closed" } } }));
    assertEquals((await readRealmFile(fs, `${dir}/r.json`)).policies, { "io.acme": "closed" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("auth config: addToLayer keeps earlier realms' authorities and replaces a realm's list per layer", () => {
  const layer = addToLayer(emptyLayer(), [], [`io.a=${did1}`], "p", "a");
  addToLayer(layer, [], [`io.b=${did2}`], "p", "a");
  addToLayer(layer, [], [`io.a=${did3}`], "p", "a");
  assertEquals(layer.authorities, { "io.a": [did3], "io.b": [did2] });
});
