/**
 * The stored identity record (IndexedDB, checked on load) and WebCrypto
 * generation. IndexedDB itself is exercised in Chromium (identity
 * persistence in browser_identity_test.ts); here the decoder gets bad input
 * and a 10,000-case fuzz loop.
 */
import {
  BrowserIdentityError,
  decodeStoredIdentity,
  encodeStoredIdentity,
  generateWithWebCrypto,
  loadBrowserIdentity,
} from "../../src/browser/identity-store.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import { KeyPair, verify } from "../../src/identity/ed25519.ts";
import { assert, assertEquals, assertNotEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";

Deno.test("identity: WebCrypto's Ed25519 key becomes a KeyPair that signs for the same public key", async () => {
  const { keyPair, source } = await generateWithWebCrypto();
  assertEquals(source, "webcrypto");
  const message = new TextEncoder().encode("hello");
  assert(verify(keyPair.publicKey, message, keyPair.sign(message)));
  // WebCrypto verifies our signature with the key it generated (the same key, both ways)
  const pub = await crypto.subtle.importKey("raw", keyPair.publicKey as Uint8Array<ArrayBuffer>, "Ed25519", true, [
    "verify",
  ]);
  assert(await crypto.subtle.verify("Ed25519", pub, keyPair.sign(message) as Uint8Array<ArrayBuffer>, message));
  assertNotEquals(encodeDidKey((await generateWithWebCrypto()).keyPair.publicKey), encodeDidKey(keyPair.publicKey));
});

Deno.test("identity: ephemeral and seeded identities are never stored; a bad seed is a typed error", async () => {
  const eph = await loadBrowserIdentity({ ephemeral: true });
  assertEquals([eph.source, eph.persisted], ["webcrypto", false]);
  const seed = new Uint8Array(32).fill(3);
  const given = await loadBrowserIdentity({ seed });
  assertEquals(given.did, encodeDidKey(KeyPair.fromSeed(seed).publicKey));
  assertEquals([given.source, given.persisted], ["seed", false]);
  await assertRejects(() => loadBrowserIdentity({ seed: new Uint8Array(31) }), BrowserIdentityError, "32 bytes");
  // no IndexedDB here (Deno): asking for a kept identity says so
  await assertRejects(() => loadBrowserIdentity(), BrowserIdentityError, "IndexedDB is not available");
});

Deno.test("identity: stored records round-trip; corrupt ones are BrowserIdentityError, never replaced", () => {
  const kp = KeyPair.generate();
  const record = encodeStoredIdentity(kp);
  assertEquals(decodeStoredIdentity(record).publicKey, kp.publicKey);
  const other = encodeDidKey(KeyPair.generate().publicKey);
  const bad: [unknown, string][] = [
    [undefined, "not a record"],
    [null, "not a record"],
    ["seed", "not a record"],
    [[record], "not a record"],
    [{ ...record, version: 2 }, "version 2"],
    [{ ...record, type: "rsa" }, "key type"],
    [{ ...record, seed: record.seed.subarray(0, 31) }, "31 bytes"],
    [{ ...record, seed: Array.from(record.seed) }, "not 32 bytes"],
    [{ ...record, did: other }, "does not match its key"],
    [{ ...record, did: undefined }, "does not match"],
  ];
  for (const [value, message] of bad) {
    const error = assertThrows(() => decodeStoredIdentity(value), BrowserIdentityError, message);
    assertEquals((error as BrowserIdentityError).code, "E_BROWSER_IDENTITY");
  }
});

Deno.test("identity: 10,000 mutated records decode to the right key or throw BrowserIdentityError", () => {
  const kp = KeyPair.fromSeed(new Uint8Array(32).fill(9));
  const good = encodeStoredIdentity(kp);
  const r = rng(42);
  const pick = (n: number) => Math.floor(r() * n);
  const values: unknown[] = [0, -1, 1, 2, "", "ed25519", "did:key:z", null, undefined, true, {}, [], new Uint8Array(0)];
  let decoded = 0;
  for (let i = 0; i < 10_000; i++) {
    const record: Record<string, unknown> = { ...good, seed: good.seed.slice() };
    const keys = ["version", "type", "seed", "did", "extra"];
    for (let k = 0; k < 1 + pick(3); k++) {
      const key = keys[pick(keys.length)];
      switch (pick(4)) {
        case 0:
          record[key] = values[pick(values.length)];
          break;
        case 1:
          delete record[key];
          break;
        case 2:
          if (record.seed instanceof Uint8Array && record.seed.length) {
            record.seed[pick(record.seed.length)] ^= 1 << pick(8);
          }
          break;
        default:
          if (typeof record.did === "string") record.did = record.did.slice(0, pick(record.did.length + 1));
      }
    }
    try {
      const out = decodeStoredIdentity(record);
      assertEquals(encodeDidKey(out.publicKey), record.did, `case ${i}`);
      decoded++;
    } catch (error) {
      assert(error instanceof BrowserIdentityError, `case ${i}: ${error}`);
    }
  }
  assert(decoded > 0 && decoded < 10_000, `decoded ${decoded}`);
});
