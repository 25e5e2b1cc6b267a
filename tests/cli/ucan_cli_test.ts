/**
 * `macula ucan issue|inspect|revoke` and `macula namespace delegate`, run
 * in process against real data dirs and real signatures; the tokens they
 * print are decoded and verified with the UCAN library.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { cli } from "../helpers/cli_in_process.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import { encodeContainer, parseChain, revoke, signerFromKeyPair, verifyChain } from "../../src/ucan/mod.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";

const now = () => Math.floor(Date.now() / 1000);

/** A scratch folder with data dirs `auth`, `owner`, `app`, … and their dids. */
async function scratch() {
  const root = await Deno.makeTempDir({ prefix: "macula-ucan-cli-" });
  const dids: Record<string, string> = {};
  const did = async (name: string) => {
    if (!dids[name]) {
      const r = await cli(["id", "--data-dir", `${root}/${name}`]);
      assertEquals(r.code, 0, r.stderr);
      dids[name] = r.stdout.trim();
    }
    return dids[name];
  };
  return { root, did, dir: (name: string) => `${root}/${name}`, cleanup: () => Deno.remove(root, { recursive: true }) };
}

/** Expect exit code `code` and a stderr line including each of `includes`. */
function expectError(r: { code: number; stderr: string; stdout: string }, code: number, ...includes: string[]) {
  assertEquals(r.code, code, `exit code; stderr: ${r.stderr}; stdout: ${r.stdout}`);
  for (const s of includes) assert(r.stderr.includes(s), `stderr should include ${JSON.stringify(s)}: ${r.stderr}`);
  assertEquals(r.stderr.trim().split("\n").length, 1, `one error line: ${r.stderr}`);
}

Deno.test("ucan issue: a root delegation signed by the data dir key, with policy and expiry", async () => {
  const s = await scratch();
  try {
    const aud = await s.did("owner");
    const pol = '[["like", ".name", "io.acme.plant3.*"]]';
    const r = await cli([
      "ucan",
      "issue",
      "--aud",
      aud,
      "--cmd",
      "/macula/pubsub",
      "--pol",
      pol,
      "--exp",
      "1h",
      "--data-dir",
      s.dir("auth"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    const chain = parseChain(r.stdout);
    assertEquals(chain.length, 1);
    const [d] = chain;
    assertEquals(d.iss, await s.did("auth"));
    assertEquals(d.sub, d.iss);
    assertEquals(d.aud, aud);
    assertEquals(d.cmd, "/macula/pubsub");
    assertEquals(d.pol, JSON.parse(pol));
    assert(Math.abs(d.exp! - (now() + 3600)) <= 2, `exp ${d.exp}`);
    assert(r.stderr.includes(`issued ${d.id}`) && r.stderr.includes("(root)"), r.stderr);
    const v = verifyChain(chain, { audience: aud, now: now(), roots: new Set([d.iss]) });
    assert(v.covers("/macula/pubsub/publish", { realm: "io.acme", name: "io.acme.plant3.temp" }));
    assert(!v.covers("/macula/pubsub/publish", { realm: "io.acme", name: "io.acme.plant4.temp" }));
    assert(!v.covers("/macula/rpc/call", { realm: "io.acme", name: "io.acme.plant3.temp" }));
    // Defaults: 30 days, no policy; --exp never; --out writes the file (mode 0600), making its folder.
    const out = `${s.dir("owner")}/ucan/root.ucan`;
    const d30 = await cli(["ucan", "issue", "--aud", aud, "--cmd", "/macula", "-o", out, "--data-dir", s.dir("auth")]);
    assertEquals(d30.code, 0, d30.stderr);
    assertEquals(d30.stdout, "");
    const [long] = parseChain(await Deno.readTextFile(out));
    assert(Math.abs(long.exp! - (now() + 30 * 86_400)) <= 2);
    assertEquals(long.pol, []);
    assertEquals((await Deno.stat(out)).mode! & 0o777, 0o600);
    const never = await cli([
      "ucan",
      "issue",
      "--aud",
      aud,
      "--cmd",
      "/macula",
      "--exp",
      "never",
      "--data-dir",
      s.dir("auth"),
    ]);
    assertEquals(parseChain(never.stdout)[0].exp, null);
    const later = await cli([
      "ucan",
      "issue",
      "--aud",
      aud,
      "--cmd",
      "/macula",
      "--nbf",
      "2h",
      "--exp",
      "3h",
      "--data-dir",
      s.dir("auth"),
    ]);
    assert(Math.abs(parseChain(later.stdout)[0].nbf! - (now() + 7200)) <= 2);
  } finally {
    await s.cleanup();
  }
});

Deno.test("ucan issue --proof: appends a link to the chain the key holds; subject stays the root's", async () => {
  const s = await scratch();
  try {
    const owner = await s.did("owner");
    const member = await s.did("member");
    const root = await cli([
      "namespace",
      "delegate",
      "io.acme.plant3",
      "--to",
      owner,
      "--data-dir",
      s.dir("auth"),
      "--exp",
      "2h",
      "-o",
      `${s.dir("owner")}/ns.ucan`,
    ]);
    assertEquals(root.code, 0, root.stderr);
    const r = await cli([
      "ucan",
      "issue",
      "--aud",
      member,
      "--cmd",
      "/macula/pubsub/publish",
      "--pol",
      '[["like", ".name", "io.acme.plant3.line1.*"]]',
      "--exp",
      "7d",
      "--proof",
      `${s.dir("owner")}/ns.ucan`,
      "--data-dir",
      s.dir("owner"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    const chain = parseChain(r.stdout);
    assertEquals(chain.length, 2);
    assertEquals(chain[1].iss, owner);
    assertEquals(chain[1].sub, await s.did("auth"));
    assertEquals(chain[1].exp, chain[0].exp, "a link never outlives its proof");
    assert(r.stderr.includes("the new link expires with it"), r.stderr);
    assert(r.stderr.includes("link 2 of the chain"), r.stderr);
    const v = verifyChain(chain, { audience: member, now: now(), roots: new Set([await s.did("auth")]) });
    assert(v.covers("/macula/pubsub/publish", { realm: "io.acme", name: "io.acme.plant3.line1.temp" }));
    assert(!v.covers("/macula/pubsub/publish", { realm: "io.acme", name: "io.acme.plant3.line2.temp" }));
    assert(!v.covers("/macula/pubsub/subscribe", { realm: "io.acme", name: "io.acme.plant3.line1.temp" }));
    // The proof from stdin works the same.
    const piped = await cli(
      ["ucan", "issue", "--aud", member, "--cmd", "/macula/pubsub", "--proof", "-", "--data-dir", s.dir("owner")],
      { stdin: root.stdout === "" ? await Deno.readTextFile(`${s.dir("owner")}/ns.ucan`) : root.stdout },
    );
    assertEquals(piped.code, 0, piped.stderr);
    assertEquals(parseChain(piped.stdout).length, 2);
  } finally {
    await s.cleanup();
  }
});

Deno.test("ucan issue --proof: refuses a proof for another key, a narrower command, a non-chain, an expired proof", async () => {
  const s = await scratch();
  try {
    const owner = await s.did("owner");
    const other = await s.did("other");
    const proof = `${s.dir("owner")}/ns.ucan`;
    await cli([
      "namespace",
      "delegate",
      "io.acme.plant3",
      "--to",
      owner,
      "--cmd",
      "/macula/pubsub",
      "--data-dir",
      s.dir("auth"),
      "-o",
      proof,
    ]);
    // Extended by a key that is not its audience.
    expectError(
      await cli([
        "ucan",
        "issue",
        "--aud",
        other,
        "--cmd",
        "/macula/pubsub",
        "--proof",
        proof,
        "--data-dir",
        s.dir("other"),
      ]),
      1,
      `the proof is delegated to ${owner}, not to this key ${other}`,
    );
    // Escalation: a broader or another command than the proof grants.
    for (const cmd of ["/macula", "/macula/rpc/call", "/macula/pubsubx"]) {
      expectError(
        await cli(["ucan", "issue", "--aud", other, "--cmd", cmd, "--proof", proof, "--data-dir", s.dir("owner")]),
        1,
        `the proof grants /macula/pubsub, which does not cover ${cmd}`,
      );
    }
    // Not a chain: garbage, a JSON file, a revocation (an invocation), an empty file.
    const garbage = `${s.root}/garbage.ucan`;
    await Deno.writeTextFile(garbage, "this is not a token\n");
    const json = `${s.root}/x.json`;
    await Deno.writeTextFile(json, '{"realms": {}}');
    const kp = KeyPair.generate();
    const revocation = `${s.root}/revocation.ucan`;
    await Deno.writeTextFile(
      revocation,
      encodeContainer([revoke(signerFromKeyPair(kp), parseChain(await Deno.readTextFile(proof))[0].cid).bytes]),
    );
    const empty = `${s.root}/empty.ucan`;
    await Deno.writeTextFile(empty, "");
    for (const file of [garbage, json, revocation, empty]) {
      expectError(
        await cli([
          "ucan",
          "issue",
          "--aud",
          other,
          "--cmd",
          "/macula/pubsub",
          "--proof",
          file,
          "--data-dir",
          s.dir("owner"),
        ]),
        1,
        `invalid --proof ${file}`,
      );
    }
    // A missing proof file: a usage error.
    expectError(
      await cli([
        "ucan",
        "issue",
        "--aud",
        other,
        "--cmd",
        "/macula/pubsub",
        "--proof",
        `${s.root}/none.ucan`,
        "--data-dir",
        s.dir("owner"),
      ]),
      2,
      "no such file",
    );
    // An expired proof.
    const old = `${s.dir("owner")}/old.ucan`;
    await cli([
      "ucan",
      "issue",
      "--aud",
      owner,
      "--cmd",
      "/macula",
      "--exp",
      "2020-01-01T00:00:00Z",
      "--data-dir",
      s.dir("auth"),
      "-o",
      old,
    ]);
    expectError(
      await cli(["ucan", "issue", "--aud", other, "--cmd", "/macula", "--proof", old, "--data-dir", s.dir("owner")]),
      1,
      "the proof cannot be used",
      "expired",
    );
  } finally {
    await s.cleanup();
  }
});

Deno.test("ucan issue: bad input is one clear line and exit code 2", async () => {
  const s = await scratch();
  try {
    const aud = await s.did("owner");
    const dd = ["--data-dir", s.dir("auth")];
    const cases: Array<[string[], string]> = [
      [["--cmd", "/macula"], "--aud is required"],
      [["--aud", "did:key:nope", "--cmd", "/macula"], "invalid --aud"],
      [["--aud", "did:web:example.com", "--cmd", "/macula"], "invalid --aud"],
      [["--aud", aud], "--cmd is required"],
      [["--aud", aud, "--cmd", "macula"], "invalid --cmd"],
      [["--aud", aud, "--cmd", "/Macula"], "invalid --cmd"],
      [["--aud", aud, "--cmd", "/macula/"], "invalid --cmd"],
      [["--aud", aud, "--cmd", "/macula", "--pol", "["], "invalid --pol: not JSON"],
      [["--aud", aud, "--cmd", "/macula", "--pol", '{"a": 1}'], "invalid --pol"],
      [["--aud", aud, "--cmd", "/macula", "--pol", '[["~=", ".name", "x"]]'], "invalid --pol"],
      [["--aud", aud, "--cmd", "/macula", "--exp", "1y"], "invalid --exp"],
      [["--aud", aud, "--cmd", "/macula", "--exp", "soon"], "invalid --exp"],
      [["--aud", aud, "--cmd", "/macula", "--exp", "0s"], "invalid --exp"],
      [["--aud", aud, "--cmd", "/macula", "--nbf", "never"], "invalid --nbf"],
      [["--aud", aud, "--cmd", "/macula", "--nbf", "2h", "--exp", "1h"], "--exp must come after --nbf"],
      [["--aud", aud, "--cmd", "/macula", "--sub", aud], "without --proof this key is the subject"],
      [["--aud", aud, "--cmd", "/macula", "--sub", "nope"], "invalid --sub"],
      [["--aud", aud, "--cmd", "/macula", "--bogus"], "bogus"],
      [["--aud", aud, "--cmd", "/macula", "extra"], "Unexpected argument 'extra'"],
    ];
    for (const [args, message] of cases) expectError(await cli(["ucan", "issue", ...args, ...dd]), 2, message);
    expectError(await cli(["ucan", "frobnicate"]), 2, 'unknown command "ucan frobnicate"');
    assertEquals((await cli(["ucan", "issue", "--help"])).code, 0);
    assert((await cli(["ucan"])).stdout.includes("macula ucan issue"));
    assert((await cli(["help", "issue"])).stdout.includes("--proof FILE"));
  } finally {
    await s.cleanup();
  }
});

Deno.test("namespace delegate: the namespace policy; sub-namespaces only inside the proof's, on whole segments", async () => {
  const s = await scratch();
  try {
    const owner = await s.did("owner");
    const team = await s.did("team");
    const proof = `${s.dir("owner")}/ucan/acme.ucan`;
    const root = await cli([
      "namespace",
      "delegate",
      "io.acme.user",
      "--to",
      owner,
      "--data-dir",
      s.dir("auth"),
      "-o",
      proof,
    ]);
    assertEquals(root.code, 0, root.stderr);
    const [d] = parseChain(await Deno.readTextFile(proof));
    assertEquals(d.cmd, "/macula");
    assertEquals(d.pol, namespacePolicy("io.acme.user"));
    // Inside: io.acme.user.profile; the namespace itself.
    for (const ns of ["io.acme.user.profile", "io.acme.user"]) {
      const r = await cli(["namespace", "delegate", ns, "--to", team, "--proof", proof, "--data-dir", s.dir("owner")]);
      assertEquals(r.code, 0, r.stderr);
      const chain = parseChain(r.stdout);
      assertEquals(chain.length, 2);
      assertEquals(chain[1].pol, namespacePolicy(ns));
    }
    // Outside, and the segment confusion io.acme.user / io.acme.username.
    for (const ns of ["io.acme.username", "io.acme.other", "io.acme.users.x"]) {
      expectError(
        await cli(["namespace", "delegate", ns, "--to", team, "--proof", proof, "--data-dir", s.dir("owner")]),
        1,
        `namespace ${ns} is not inside the proof's`,
      );
    }
    // Narrower commands.
    const pubsub = await cli([
      "namespace",
      "delegate",
      "io.acme.user.chat",
      "--to",
      team,
      "--cmd",
      "/macula/pubsub",
      "--proof",
      proof,
      "--data-dir",
      s.dir("owner"),
    ]);
    assertEquals(parseChain(pubsub.stdout)[1].cmd, "/macula/pubsub");
    // Bad input.
    expectError(
      await cli(["namespace", "delegate", "io.acme", "--to", team, "--data-dir", s.dir("auth")]),
      2,
      "at least 3 segments",
    );
    expectError(
      await cli(["namespace", "delegate", "io.Acme.x", "--to", team, "--data-dir", s.dir("auth")]),
      2,
      "segment",
    );
    expectError(await cli(["namespace", "delegate", "io.acme.x", "--data-dir", s.dir("auth")]), 2, "--to is required");
    expectError(
      await cli(["namespace", "delegate", "io.acme.x", "--to", "me", "--data-dir", s.dir("auth")]),
      2,
      "invalid --to",
    );
    expectError(await cli(["namespace", "delegate", "--to", team]), 2, "missing NS");
    expectError(await cli(["namespace", "give", "io.acme.x"]), 2, 'unknown command "namespace give"');
  } finally {
    await s.cleanup();
  }
});
