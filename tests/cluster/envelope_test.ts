/** The cluster datagram envelope: every drop reason, and what passes. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { HEADER_LENGTH, MAX_DATAGRAM, openEnvelope, sealEnvelope } from "../../src/cluster/envelope.ts";
import { DatagramDropError, type DropReason } from "../../src/cluster/errors.ts";
import { ClusterKey, MAC_LENGTH } from "../../src/cluster/hmac.ts";
import { ReplayGuard } from "../../src/cluster/replay-guard.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

const kp = KeyPair.generate();
const key = ClusterKey.fromSecret("the-right-secret");
const body = new Uint8Array([0xa1, 0x61, 0x74, 0x07]); // {t: 7}

function dropped(bytes: Uint8Array, reason: DropReason, options: { key?: ClusterKey; guard?: ReplayGuard } = {}) {
  const e = assertThrows(
    () => openEnvelope(bytes, { key: options.key, guard: options.guard ?? new ReplayGuard() }),
    DatagramDropError,
  );
  assertEquals((e as DatagramDropError).reason, reason, e.message);
}

/** Re-MAC a tampered datagram so the check after the MAC is reached. */
function remac(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(key.mac(out.subarray(0, out.length - MAC_LENGTH)), out.length - MAC_LENGTH);
  return out;
}

Deno.test("envelope: sealed datagrams open with and without a secret", () => {
  for (const k of [undefined, key]) {
    const bytes = sealEnvelope(signerOf(kp), body, { key: k });
    assertEquals(bytes.length, HEADER_LENGTH + body.length + 64 + (k ? 32 : 0));
    const opened = openEnvelope(bytes, { key: k, guard: new ReplayGuard() });
    assertEquals(opened.sender.bytes, kp.publicKey);
    assertEquals(opened.body, body);
    assert(Math.abs(opened.timestamp - Date.now()) < 1000);
  }
});

Deno.test("envelope: MAC rules — missing, wrong secret, tampered, unexpected", () => {
  dropped(sealEnvelope(signerOf(kp), body), "missing_mac", { key });
  dropped(sealEnvelope(signerOf(kp), body, { key: ClusterKey.fromSecret("another-secret") }), "bad_mac", { key });
  const tampered = sealEnvelope(signerOf(kp), body, { key });
  tampered[HEADER_LENGTH] ^= 1;
  dropped(tampered, "bad_mac", { key });
  dropped(sealEnvelope(signerOf(kp), body, { key }), "unexpected_mac");
  // the MAC flag cleared on a MAC'd datagram: the trailing MAC breaks the signature
  const unflagged = sealEnvelope(signerOf(kp), body, { key });
  unflagged[4] = 0;
  dropped(unflagged, "bad_signature");
});

Deno.test("envelope: stale timestamps (past and future) and replays are dropped", () => {
  dropped(sealEnvelope(signerOf(kp), body, { key, now: Date.now() - 60_000 }), "stale", { key });
  dropped(sealEnvelope(signerOf(kp), body, { key, now: Date.now() + 60_000 }), "stale", { key });
  const guard = new ReplayGuard();
  const bytes = sealEnvelope(signerOf(kp), body, { key });
  openEnvelope(bytes, { key, guard });
  dropped(bytes, "replay", { key, guard });
  // a datagram that failed authentication does not burn its nonce
  const guard2 = new ReplayGuard();
  const good = sealEnvelope(signerOf(kp), body, { key });
  const bad = good.slice();
  bad[bad.length - 70] ^= 1; // inside the signature
  dropped(remac(bad), "bad_signature", { key, guard: guard2 });
  openEnvelope(good, { key, guard: guard2 });
});

Deno.test("envelope: forged senders and tampered bodies fail the signature even with the secret", () => {
  const other = KeyPair.generate();
  const forged = sealEnvelope(signerOf(kp), body, { key });
  forged.set(other.publicKey, 5); // claim to be someone else
  dropped(remac(forged), "bad_signature", { key });
  const tampered = sealEnvelope(signerOf(kp), body, { key });
  tampered[HEADER_LENGTH + 1] ^= 0x10;
  dropped(remac(tampered), "bad_signature", { key });
});

Deno.test("envelope: malformed — short, long, magic, version, flags, not bytes", () => {
  const ok = sealEnvelope(signerOf(kp), body);
  dropped(ok.subarray(0, 100), "malformed");
  dropped(new Uint8Array(0), "malformed");
  dropped(new Uint8Array(MAX_DATAGRAM + 1), "malformed");
  for (const [at, value] of [[0, 0x4e], [3, 0x02], [4, 0x02], [4, 0x80]]) {
    const b = ok.slice();
    b[at] = value;
    dropped(b, "malformed");
  }
  dropped("hello" as unknown as Uint8Array, "malformed");
  const withMacFlagButShort = new Uint8Array(HEADER_LENGTH + 64);
  withMacFlagButShort.set([0x4d, 0x43, 0x4c, 0x01, 1]);
  dropped(withMacFlagButShort, "malformed", { key });
});

Deno.test("replay guard: bounded memory raises a floor instead of forgetting silently", () => {
  const guard = new ReplayGuard({ maxSkew: 30_000, capacity: 3 });
  const now = Date.now();
  for (let i = 0; i < 4; i++) guard.accept("s", `n${i}`, now - 1000 + i, now);
  assertEquals(guard.size, 3);
  // n0 was evicted: its timestamp is now at or below the floor, so it is stale rather than accepted again
  assertEquals(guard.check("s", "n0", now - 1000, now), "stale");
  assertEquals(guard.check("s", "n3", now - 997, now), "replay");
  assertEquals(guard.check("s", "new", now, now), "ok");
  assertEquals(guard.check("t", "n3", now - 997, now), "ok", "nonces are per sender");
});

Deno.test("replay guard: entries older than the skew window are expired", () => {
  const guard = new ReplayGuard({ maxSkew: 1000 });
  const now = Date.now();
  guard.accept("s", "a", now - 900, now);
  guard.accept("s", "b", now, now + 2000);
  assertEquals(guard.size, 1);
  assertEquals(guard.check("s", "a", now - 900, now + 2000), "stale");
});

Deno.test("cluster key: derived from the secret; verify is exact", () => {
  const data = new Uint8Array([1, 2, 3]);
  assertEquals(key.mac(data), ClusterKey.fromSecret("the-right-secret").mac(data));
  assert(!ClusterKey.fromSecret("the-right-secreT").verify(data, key.mac(data)));
  assert(!key.verify(data, key.mac(data).subarray(0, 31)));
  assertEquals(key.mac(data).length, MAC_LENGTH);
});
