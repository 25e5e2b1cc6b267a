/**
 * `macula ucan inspect` (a chain explained; exit 0 valid, 1 invalid) and
 * `macula ucan revoke` with no node running (the revocation goes to the data
 * dir's store, and inspect then knows it), in process, real signatures.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { cli } from "../helpers/cli_in_process.ts";
import { decodeContainer, encodeContainer, Invocation, parseChain, readRevocation } from "../../src/ucan/mod.ts";
import { FileRevocationStore } from "../../src/auth/revocation-store.ts";
import { currentPlatform } from "../../src/platform/current.ts";

/** A chain authority → owner → member in `root`, written to files; returns the paths and dids. */
async function chainOf3(root: string) {
  const did = async (name: string) => (await cli(["id", "--data-dir", `${root}/${name}`])).stdout.trim();
  const [auth, owner, member] = [await did("auth"), await did("owner"), await did("member")];
  const ns = `${root}/owner.ucan`;
  const full = `${root}/member.ucan`;
  const a = await cli([
    "namespace",
    "delegate",
    "io.acme.plant3",
    "--to",
    owner,
    "--data-dir",
    `${root}/auth`,
    "-o",
    ns,
  ]);
  assertEquals(a.code, 0, a.stderr);
  const b = await cli([
    "ucan",
    "issue",
    "--aud",
    member,
    "--cmd",
    "/macula/pubsub",
    "--exp",
    "1h",
    "--proof",
    ns,
    "--data-dir",
    `${root}/owner`,
    "-o",
    full,
  ]);
  assertEquals(b.code, 0, b.stderr);
  return { auth, owner, member, ns, full };
}

Deno.test("ucan inspect: a valid chain link by link, its CIDs, expiry in words, and why it is valid", async () => {
  const root = await Deno.makeTempDir({ prefix: "macula-inspect-" });
  try {
    const c = await chainOf3(root);
    const chain = parseChain(await Deno.readTextFile(c.full));
    const r = await cli(["ucan", "inspect", c.full, "--data-dir", `${root}/member`]);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    const text = r.stdout;
    assert(text.includes("chain of 2 delegations, root first"), text);
    for (const d of chain) assert(text.includes(d.id), `CID ${d.id} shown`);
    assert(text.includes(`    ${c.auth}\n  → ${c.owner}`), text);
    assert(text.includes(`    ${c.owner}\n  → ${c.member}`), text);
    assert(text.includes("(the issuer: a root)"));
    assert(text.includes("cmd  /macula/pubsub"));
    assert(text.includes('"like",".name","io.acme.plant3.*"'), text);
    assert(/expires in (59 min|1 h) /.test(text), text);
    assert(text.includes(`VALID for ${c.member} (subject ${c.auth})`), text);
    assert(text.includes("signatures  ok (2)"));
    // --json, the token as an argument, and from stdin.
    const token = (await Deno.readTextFile(c.full)).trim();
    const j = await cli(["ucan", "inspect", token, "--json", "--data-dir", `${root}/member`]);
    assertEquals(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assertEquals(doc.valid, true);
    assertEquals(doc.subject, c.auth);
    assertEquals(doc.audience, c.member);
    assertEquals(doc.links.map((l: { cid: string }) => l.cid), chain.map((d) => d.id));
    assertEquals(doc.links[1].cmd, "/macula/pubsub");
    assertEquals(doc.expires, chain[1].exp);
    const piped = await cli(["ucan", "inspect", "-", "--json", "--data-dir", `${root}/member`], { stdin: token });
    assertEquals(JSON.parse(piped.stdout).valid, true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ucan inspect: forged signature, broken chain, expired, not yet valid, not a token — exit code 1", async () => {
  const root = await Deno.makeTempDir({ prefix: "macula-inspect-" });
  try {
    const c = await chainOf3(root);
    const tokens = parseChain(await Deno.readTextFile(c.full)).map((d) => d.bytes); // root first
    const inspect = async (text: string) => {
      const r = await cli(["ucan", "inspect", "-", "--json", "--data-dir", `${root}/member`], { stdin: text });
      return { code: r.code, doc: JSON.parse(r.stdout) as { valid: boolean; error: string; code?: string } };
    };
    // A flipped bit in the root's signature (the envelope starts with the 64 signature bytes).
    const forged = tokens[0].slice();
    forged[10] ^= 0x01;
    const f = await inspect(encodeContainer([forged, tokens[1]]));
    assertEquals(f.code, 1);
    assertEquals(f.doc.valid, false);
    assert(/signature/i.test(f.doc.error), f.doc.error);
    // A broken chain: the member's link after someone else's root (aud ≠ next iss).
    const other = await cli(["ucan", "issue", "--aud", c.member, "--cmd", "/macula", "--data-dir", `${root}/auth`]);
    const broken = await inspect(encodeContainer([decodeContainer(other.stdout)[0], tokens[1]]));
    assertEquals(broken.code, 1);
    assert(broken.doc.error.length > 0);
    // Expired and not yet valid.
    const expired = await cli([
      "ucan",
      "issue",
      "--aud",
      c.member,
      "--cmd",
      "/macula",
      "--exp",
      "2021-01-01",
      "--data-dir",
      `${root}/auth`,
    ]);
    const e = await inspect(expired.stdout);
    assertEquals(e.code, 1);
    assert(e.doc.error.startsWith("Expired"), e.doc.error);
    const early = await cli([
      "ucan",
      "issue",
      "--aud",
      c.member,
      "--cmd",
      "/macula",
      "--nbf",
      "1d",
      "--data-dir",
      `${root}/auth`,
    ]);
    const t = await inspect(early.stdout);
    assertEquals(t.code, 1);
    assert(t.doc.error.startsWith("TooEarly"), t.doc.error);
    // Human form of an invalid chain: the chain shown, then INVALID with the reason.
    const human = await cli(["ucan", "inspect", "-", "--data-dir", `${root}/member`], { stdin: expired.stdout });
    assertEquals(human.code, 1);
    assert(human.stdout.includes("expired") && human.stdout.includes("INVALID: Expired"), human.stdout);
    // Not a token: a text file, garbage base64url, truncated.
    const notToken = `${root}/notes.txt`;
    await Deno.writeTextFile(notToken, "hello, this is not a token");
    for (const arg of [notToken]) {
      const r = await cli(["ucan", "inspect", arg, "--data-dir", `${root}/member`]);
      assertEquals(r.code, 1, r.stdout);
      assert(r.stdout.includes(`${notToken} is not a valid token`), r.stdout);
    }
    for (const text of ["A".repeat(40), (await Deno.readTextFile(c.full)).slice(0, 60)]) {
      assertEquals((await inspect(text)).code, 1);
    }
    // Usage errors: exit 2.
    const missing = await cli(["ucan", "inspect", `${root}/none.ucan`]);
    assertEquals(missing.code, 2);
    assert(missing.stderr.includes("no such file"), missing.stderr);
    assertEquals((await cli(["ucan", "inspect"])).code, 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ucan revoke without a node: stored in the data dir; inspect then shows the link revoked", async () => {
  const root = await Deno.makeTempDir({ prefix: "macula-revoke-" });
  try {
    const c = await chainOf3(root);
    const chain = parseChain(await Deno.readTextFile(c.full));
    // The owner revokes its own link (the middle one would be the same: it is above it).
    const r = await cli(["ucan", "revoke", chain[1].id, "--data-dir", `${root}/owner`, "--health-port", "1"]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("no node running; stored in"), r.stderr);
    const store = new FileRevocationStore(currentPlatform().fs, `${root}/owner/auth`);
    await store.open();
    assertEquals(store.size, 1);
    const inv = Invocation.decode(store.all()[0]);
    assertEquals(inv.id, r.stdout.trim());
    assertEquals(readRevocation(inv), { revoker: c.owner, cid: chain[1].id });
    await store.close();
    const seen = await cli(["ucan", "inspect", c.full, "--data-dir", `${root}/owner`]);
    assertEquals(seen.code, 1);
    assert(seen.stdout.includes(`REVOKED by ${c.owner}`), seen.stdout);
    assert(seen.stdout.includes("INVALID: Revoked"), seen.stdout);
    // The member's data dir knows nothing of it: still valid there.
    assertEquals((await cli(["ucan", "inspect", c.full, "--data-dir", `${root}/member`])).code, 0);
    // A revocation by a key that issued nothing in the chain does not apply.
    await cli(["ucan", "revoke", chain[0].id, "--data-dir", `${root}/member`, "--offline"]);
    assertEquals((await cli(["ucan", "inspect", c.full, "--data-dir", `${root}/member`])).code, 0);
    // inspect shows a revocation itself.
    const revocationText = encodeContainer([inv.bytes]);
    const shown = await cli(["ucan", "inspect", "-"], { stdin: revocationText });
    assertEquals(shown.code, 0, shown.stderr);
    assert(shown.stdout.includes(`a revocation of ${chain[1].id} by ${c.owner}`), shown.stdout);
    // Bad CIDs: usage errors.
    for (const bad of ["nope", "bafy", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"]) {
      const b = await cli(["ucan", "revoke", bad, "--data-dir", `${root}/owner`, "--offline"]);
      assertEquals(b.code, 2, b.stderr);
      assert(b.stderr.includes("invalid CID"), b.stderr);
    }
    assertEquals((await cli(["ucan", "revoke", "--data-dir", `${root}/owner`])).code, 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
