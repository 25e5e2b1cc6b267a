/**
 * From `macula start`'s settings to the node's AuthOptions: token files in
 * the data dir and from --ucan, checked against the node's identity; the
 * realm file read; one log line per closed realm.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { resolveNodeAuth } from "../../src/cli/auth-start.ts";
import { ConfigError, resolveStartConfig, type StartFlags } from "../../src/cli/config.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { delegate, encodeContainer, revoke, signerFromKeyPair } from "../../src/ucan/mod.ts";

const fs = currentPlatform().fs;
const now = () => Math.floor(Date.now() / 1000);

function logger() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: new Logger({ format: "json", level: "debug", sink: (l) => lines.push(JSON.parse(l)) }) };
}

Deno.test("start auth: chains from DATA-DIR/ucan/*.ucan and --ucan, realms merged, a line per closed realm", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-auth-start-" });
  try {
    const authority = signerFromKeyPair(KeyPair.generate());
    const node = signerFromKeyPair(KeyPair.generate());
    const chain = (cmd: string) => [delegate(authority, { aud: node.did, sub: authority.did, cmd, exp: now() + 3600 })];
    await Deno.mkdir(`${dir}/data/ucan`, { recursive: true });
    await Deno.writeTextFile(`${dir}/data/ucan/b.ucan`, encodeContainer(chain("/macula/pubsub").map((d) => d.bytes)));
    await Deno.writeTextFile(`${dir}/data/ucan/a.ucan`, encodeContainer(chain("/macula/rpc").map((d) => d.bytes)));
    await Deno.writeTextFile(`${dir}/data/ucan/notes.txt`, "not a token file: ignored (no .ucan)");
    await Deno.writeTextFile(`${dir}/extra.ucan`, encodeContainer(chain("/macula/content").map((d) => d.bytes)));
    await Deno.writeTextFile(`${dir}/realms.json`, JSON.stringify({ realms: { "io.acme": { policy: "closed" } } }));
    const flags: StartFlags = {
      "data-dir": `${dir}/data`,
      realm: ["io.acme", "io.open"],
      "realm-authority": [`io.acme=${authority.did}`],
      "realm-file": `${dir}/realms.json`,
      ucan: [`${dir}/extra.ucan`],
      "clock-skew": "30",
    };
    const { lines, log } = logger();
    const auth = await resolveNodeAuth(resolveStartConfig({}, flags), fs, node.did, log);
    assertEquals(auth.options.realms, {
      "io.acme": { policy: "closed", authorities: [authority.did] },
      "io.open": { policy: "open", authorities: [] },
    });
    assertEquals(auth.options.skew, 30);
    assertEquals(auth.options.chains!.map((c) => c[0].cmd), ["/macula/rpc", "/macula/pubsub", "/macula/content"]);
    const closed = lines.filter((l) => l.msg === "closed realm");
    assertEquals(closed.length, 1);
    assertEquals([closed[0].realm, closed[0].authorities, closed[0].chains], ["io.acme", 1, 3]);
    assertEquals(lines.filter((l) => l.level === "warn"), []);
    // Open realms only: nothing logged at all.
    const quiet = logger();
    await resolveNodeAuth(resolveStartConfig({}, { "data-dir": `${dir}/empty` }), fs, node.did, quiet.log);
    assertEquals(quiet.lines, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start auth: a token file for another node, not a chain, or unreadable is a ConfigError naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-auth-start-" });
  try {
    const authority = signerFromKeyPair(KeyPair.generate());
    const node = signerFromKeyPair(KeyPair.generate());
    const other = signerFromKeyPair(KeyPair.generate());
    const resolve = (ucan: string) =>
      resolveNodeAuth(
        resolveStartConfig({}, { "data-dir": `${dir}/data`, ucan: [ucan] }),
        fs,
        node.did,
        Logger.silent(),
      );
    const stolen = `${dir}/stolen.ucan`;
    await Deno.writeTextFile(
      stolen,
      encodeContainer([delegate(authority, { aud: other.did, sub: authority.did, cmd: "/macula", exp: null }).bytes]),
    );
    await assertRejects(() => resolve(stolen), ConfigError, `token file ${stolen} is delegated to ${other.did}`);
    const garbage = `${dir}/garbage.ucan`;
    await Deno.writeTextFile(garbage, "garbage");
    const e = await assertRejects(() => resolve(garbage), ConfigError, `invalid token file ${garbage}:`);
    assert(e.message.length > `invalid token file ${garbage}: `.length + 5, "the UCAN error is part of it");
    const revocation = `${dir}/revocation.ucan`;
    await Deno.writeTextFile(
      revocation,
      encodeContainer([revoke(authority, "bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmqqme5yje").bytes]),
    );
    await assertRejects(() => resolve(revocation), ConfigError, `invalid token file ${revocation}`);
    await assertRejects(
      () => resolve(`${dir}/none.ucan`),
      ConfigError,
      `cannot read token file ${dir}/none.ucan: no such file`,
    );
    await Deno.mkdir(`${dir}/adir.ucan`);
    await assertRejects(() => resolve(`${dir}/adir.ucan`), ConfigError, "not a file");
    // A broken chain (a link whose issuer is not the previous audience).
    const broken = `${dir}/broken.ucan`;
    await Deno.writeTextFile(
      broken,
      encodeContainer([
        delegate(authority, { aud: other.did, sub: authority.did, cmd: "/macula", exp: null }).bytes,
        delegate(authority, { aud: node.did, sub: authority.did, cmd: "/macula", exp: null }).bytes,
      ]),
    );
    await assertRejects(() => resolve(broken), ConfigError, broken);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start auth: an expired or not-yet-valid token file is skipped with a warning; the node still starts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-auth-start-" });
  try {
    const authority = signerFromKeyPair(KeyPair.generate());
    const node = signerFromKeyPair(KeyPair.generate());
    const write = async (name: string, fields: { exp: number | null; nbf?: number }) => {
      const d = delegate(authority, { aud: node.did, sub: authority.did, cmd: "/macula", ...fields });
      await Deno.writeTextFile(`${dir}/${name}`, encodeContainer([d.bytes]));
      return `${dir}/${name}`;
    };
    const files = [
      await write("old.ucan", { exp: now() - 3600 }),
      await write("early.ucan", { exp: null, nbf: now() + 3600 }),
      await write("good.ucan", { exp: now() + 3600 }),
    ];
    const { lines, log } = logger();
    const auth = await resolveNodeAuth(
      resolveStartConfig({}, { "data-dir": `${dir}/d`, ucan: files }),
      fs,
      node.did,
      log,
    );
    assertEquals(auth.options.chains!.length, 1);
    const warnings = lines.filter((l) => l.level === "warn");
    assertEquals(warnings.map((w) => w.path), [files[0], files[1]]);
    assert(String(warnings[0].msg).includes("not valid now"), JSON.stringify(warnings[0]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
