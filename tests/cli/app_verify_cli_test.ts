/**
 * `macula app verify MANIFEST.json`: admission steps 2–4 on a manifest
 * whose proof was made with the CLI (authority → namespace owner → app),
 * against the realm's authorities given as for `macula start`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { cli } from "../helpers/cli_in_process.ts";

async function setup() {
  const root = await Deno.makeTempDir({ prefix: "macula-app-verify-" });
  const did = async (name: string) => (await cli(["id", "--data-dir", `${root}/${name}`])).stdout.trim();
  const [auth, owner, app] = [await did("auth"), await did("owner"), await did("app")];
  const ns = `${root}/owner.ucan`;
  await cli(["namespace", "delegate", "io.acme.plant3", "--to", owner, "--data-dir", `${root}/auth`, "-o", ns]);
  const proof = await cli([
    "namespace",
    "delegate",
    "io.acme.plant3.weather",
    "--to",
    app,
    "--proof",
    ns,
    "--data-dir",
    `${root}/owner`,
  ]);
  assertEquals(proof.code, 0, proof.stderr);
  const manifest = {
    identity: "io.acme.plant3.weather",
    capabilities: ["subscribe", "publish"],
    api: { topics: ["io.acme.plant3.weather.temp"], procedures: ["io.acme.plant3.weather.now"], contentTypes: [] },
    did: app,
    proof: proof.stdout.trim(),
  };
  const write = async (m: unknown, name = "manifest.json") => {
    const path = `${root}/${name}`;
    await Deno.writeTextFile(path, typeof m === "string" ? m : JSON.stringify(m));
    return path;
  };
  const verify = (path: string, ...extra: string[]) =>
    cli([
      "app",
      "verify",
      path,
      "--realm",
      "io.acme",
      "--realm-authority",
      `io.acme=${auth}`,
      "--data-dir",
      `${root}/node`,
      ...extra,
    ]);
  return { root, auth, owner, app, manifest, write, verify, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("app verify: a manifest whose proof comes from the namespace owner is admitted (exit 0)", async () => {
  const s = await setup();
  try {
    const path = await s.write(s.manifest);
    const r = await s.verify(path);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assert(r.stdout.includes("admitted in realm io.acme: io.acme.plant3.weather (namespace io.acme.plant3"), r.stdout);
    assert(r.stdout.includes(s.app));
    assert(r.stdout.includes("subscribe, publish"));
    const j = await s.verify(path, "--json");
    const doc = JSON.parse(j.stdout);
    assertEquals(doc.admitted, true);
    assertEquals(doc.manifest.identity, "io.acme.plant3.weather");
    assertEquals(doc.manifest.did, s.app);
    assert(/^[0-9a-f]{64}$/.test(doc.manifest.keyFingerprint));
    // The same with the authority from a realm file.
    const realmFile = await s.write(
      { realms: { "io.acme": { policy: "closed", authorities: [s.auth] } } },
      "realms.json",
    );
    const viaFile = await cli([
      "app",
      "verify",
      path,
      "--realm",
      "io.acme",
      "--realm-file",
      realmFile,
      "--data-dir",
      `${s.root}/node`,
    ]);
    assertEquals(viaFile.code, 0, viaFile.stderr + viaFile.stdout);
  } finally {
    await s.cleanup();
  }
});

Deno.test("app verify: each failing step is named, exit code 1; usage errors exit 2", async () => {
  const s = await setup();
  try {
    const refused = async (m: unknown, step: string, ...extra: string[]) => {
      const r = await s.verify(await s.write(m), "--json", ...extra);
      assertEquals(r.code, 1, r.stderr + r.stdout);
      const doc = JSON.parse(r.stdout);
      assertEquals(doc.admitted, false);
      assertEquals(doc.step, step, doc.error);
      return doc;
    };
    await refused({ ...s.manifest, identity: "io.acme" }, "invalid_identity");
    await refused({ ...s.manifest, identity: "io.acme.plant4.weather" }, "not_namespace_owner");
    // Segment confusion: the proof is for io.acme.plant3.weather, not io.acme.plant3.weatherx.
    await refused({ ...s.manifest, identity: "io.acme.plant3.weatherx" }, "not_namespace_owner");
    await refused({ ...s.manifest, capabilities: ["subscribe", "fly"] }, "invalid_capability");
    await refused(
      { ...s.manifest, api: { ...s.manifest.api, topics: ["io.acme.plant4.temp"] } },
      "invalid_api_entries",
    );
    await refused({ ...s.manifest, did: s.owner }, "invalid_proof");
    await refused({ ...s.manifest, proof: "not a token" }, "invalid_proof");
    // No authority configured: the node's own key is the implicit one, and the chain is not rooted at it.
    const implicit = await cli([
      "app",
      "verify",
      await s.write(s.manifest),
      "--realm",
      "io.acme",
      "--json",
      "--data-dir",
      `${s.root}/node`,
    ]);
    assertEquals(implicit.code, 1, implicit.stdout);
    assert(["invalid_proof", "not_namespace_owner"].includes(JSON.parse(implicit.stdout).step), implicit.stdout);
    // Human form.
    const human = await s.verify(await s.write({ ...s.manifest, identity: "io.acme.plant4.weather" }));
    assert(human.stdout.startsWith("refused at step not_namespace_owner:"), human.stdout);
    // Not a manifest: exit 1 with the reason.
    const notJson = await s.verify(await s.write("{ nope"), "--json");
    assertEquals(notJson.code, 1);
    assertEquals(JSON.parse(notJson.stdout).step, "invalid_manifest");
    // Usage: missing file, no file, bad authority.
    const missing = await s.verify(`${s.root}/none.json`);
    assertEquals(missing.code, 2);
    assert(missing.stderr.includes("no such file"), missing.stderr);
    assertEquals((await cli(["app", "verify"])).code, 2);
    assertEquals((await cli(["app", "install", "x"])).code, 2);
    const bad = await cli(["app", "verify", await s.write(s.manifest), "--realm-authority", "io.acme=did:key:bad"]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("--realm-authority"), bad.stderr);
  } finally {
    await s.cleanup();
  }
});
