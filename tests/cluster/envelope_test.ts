/** The cluster datagram envelope: every drop reason, and what passes. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { HEADER_LENGTH, MAX_DATAGRAM, openEnvelope, sealEnvelope, Stamper } from "../../src/cluster/envelope.ts";
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
    assertEquals(opened.counter, 1);
    assertEquals(opened.epoch.length, 16);
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

Deno.test("envelope: a sender's counter is accepted once; old epochs are stale; the wall clock plays no part", () => {
  const guard = new ReplayGuard();
  const stamper = new Stamper();
  const first = sealEnvelope(signerOf(kp), body, { key, stamper });
  const second = sealEnvelope(signerOf(kp), body, { key, stamper });
  assertEquals(openEnvelope(second, { key, guard }).counter, 2);
  assertEquals(openEnvelope(first, { key, guard }).counter, 1, "reordered within the window");
  dropped(first, "replay", { key, guard });
  dropped(second, "replay", { key, guard });
  // Restarts: a new epoch is accepted; two restarts later the first epoch's datagrams are stale.
  const later = [new Stamper(), new Stamper()];
  const old = sealEnvelope(signerOf(kp), body, { key, stamper });
  for (const s of later) openEnvelope(sealEnvelope(signerOf(kp), body, { key, stamper: s }), { key, guard });
  dropped(old, "stale", { key, guard });
  // Counters beyond 2^53 - 1, or 0, are malformed.
  const huge = sealEnvelope(signerOf(kp), body, { key });
  new DataView(huge.buffer).setBigUint64(45, 2n ** 60n);
  dropped(remac(huge), "malformed", { key });
  const zero = sealEnvelope(signerOf(kp), body, { key });
  new DataView(zero.buffer).setBigUint64(45, 0n);
  dropped(remac(zero), "malformed", { key });
  // A datagram that failed authentication does not burn its counter.
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
  // [3] = 0x01: version 1 (wall-clock timestamps) is no longer spoken
  for (const [at, value] of [[0, 0x4e], [3, 0x01], [3, 0x03], [4, 0x02], [4, 0x80]]) {
    const b = ok.slice();
    b[at] = value;
    dropped(b, "malformed");
  }
  dropped("hello" as unknown as Uint8Array, "malformed");
  const withMacFlagButShort = new Uint8Array(HEADER_LENGTH + 64);
  withMacFlagButShort.set([0x4d, 0x43, 0x4c, 0x02, 1]);
  dropped(withMacFlagButShort, "malformed", { key });
});

Deno.test("cluster key: derived from the secret; verify is exact", () => {
  const data = new Uint8Array([1, 2, 3]);
  assertEquals(key.mac(data), ClusterKey.fromSecret("the-right-secret").mac(data));
  assert(!ClusterKey.fromSecret("the-right-secreT").verify(data, key.mac(data)));
  assert(!key.verify(data, key.mac(data).subarray(0, 31)));
  assertEquals(key.mac(data).length, MAC_LENGTH);
});
