/**
 * The two backends interoperate: what one signs, seals or agrees on, the
 * other verifies, opens or agrees on too; and the pure-JavaScript backend
 * alone carries the whole of `src/crypto` when `node.ts` is mapped away
 * (as a browser bundle does).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { cryptoBackend, randomBytes, timingSafeEqual } from "../../src/crypto/mod.ts";
import { nobleBackend } from "../../src/crypto/noble.ts";
import { nodeBackend } from "../../src/crypto/node.ts";
import { utf8 } from "../../src/util/bytes.ts";

const node = nodeBackend!;
const PAIRS = [[node, nobleBackend], [nobleBackend, node]] as const;

for (const [a, b] of PAIRS) {
  Deno.test(`crypto interop: ${a.name} → ${b.name} (Ed25519, X25519, ChaCha20-Poly1305, SHA-256, HMAC)`, () => {
    for (let i = 0; i < 20; i++) {
      const seed = randomBytes(32);
      const signer = a.ed25519FromSeed(seed);
      assertEquals(b.ed25519FromSeed(seed).publicKey, signer.publicKey);
      const message = randomBytes(i * 7);
      const signature = signer.sign(message);
      assert(b.ed25519Verify(signer.publicKey, message, signature));
      assertEquals(b.ed25519FromSeed(seed).sign(message), signature);

      const x = a.x25519FromPrivate(randomBytes(32));
      const y = b.x25519FromPrivate(randomBytes(32));
      assertEquals(x.dh(y.publicKey), y.dh(x.publicKey));

      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const ad = randomBytes(i % 3 === 0 ? 0 : 13);
      const plaintext = randomBytes(i * 31);
      const sealed = new Uint8Array(plaintext.length + 16);
      a.aeadKey(key).seal(nonce, ad, plaintext, sealed, 0);
      assertEquals(b.aeadKey(key).open(nonce, ad, sealed), plaintext);

      assertEquals(a.sha256([message, plaintext]), b.sha256([message, plaintext]));
      assertEquals(a.hmacSha256(key, [message]), b.hmacSha256(key, [message]));
    }
  });
}

Deno.test("crypto: node:crypto is the backend under Deno; helpers behave", () => {
  assertEquals(cryptoBackend().name, "node");
  assertEquals(randomBytes(70000).length, 70000);
  assert(!randomBytes(32).every((byte) => byte === 0));
  assert(timingSafeEqual(utf8("abc"), utf8("abc")));
  assert(!timingSafeEqual(utf8("abc"), utf8("abd")));
  assert(!timingSafeEqual(utf8("abc"), utf8("ab")));
});

const ROOT = new URL("../../", import.meta.url);

Deno.test("crypto: with node.ts mapped to absent.ts, the pure-JS backend runs a Noise handshake and signs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-crypto-absent-" });
  try {
    const map = { imports: { [new URL("src/crypto/node.ts", ROOT).href]: new URL("src/crypto/absent.ts", ROOT).href } };
    await Deno.writeTextFile(`${dir}/import_map.json`, JSON.stringify(map));
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { cryptoBackend } from "${new URL("src/crypto/mod.ts", ROOT).href}";
import { XXHandshake } from "${new URL("src/secure/noise.ts", ROOT).href}";
import { KeyPair, verify } from "${new URL("src/identity/ed25519.ts", ROOT).href}";
const alice = new XXHandshake({ initiator: true });
const bob = new XXHandshake({ initiator: false });
bob.readMessage(alice.writeMessage());
alice.readMessage(bob.writeMessage());
bob.readMessage(alice.writeMessage());
const a = alice.split();
const b = bob.split();
const sealed = a.send.encryptWithAd(new Uint8Array(0), new TextEncoder().encode("hi"));
const text = new TextDecoder().decode(b.receive.decryptWithAd(new Uint8Array(0), sealed));
const kp = KeyPair.generate();
const ok = verify(kp.publicKey, new Uint8Array(3), kp.sign(new Uint8Array(3)));
console.log(cryptoBackend().name, text, ok);
`,
    );
    const deno = (args: string[]) =>
      new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } })
        .output();
    const run = await deno(["run", `--import-map=${dir}/import_map.json`, `${dir}/main.ts`]);
    const stderr = new TextDecoder().decode(run.stderr);
    assert(run.success, stderr);
    assertEquals(new TextDecoder().decode(run.stdout).trim(), "noble hi true");
    const info = await deno(["info", "--json", `--import-map=${dir}/import_map.json`, `${dir}/main.ts`]);
    assert(info.success, new TextDecoder().decode(info.stderr));
    const builtins = new Set(new TextDecoder().decode(info.stdout).match(/"node:[a-z_/]+"/g) ?? []);
    assert(!builtins.has('"node:crypto"'), `node:crypto is still in the graph: ${[...builtins]}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
