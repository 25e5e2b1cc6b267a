/**
 * The DHT keyspace: node ids, realm keys, XOR distance, bucket indices and
 * distance ordering.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import {
  commonPrefixLength,
  compareDistance,
  dhtId,
  distance,
  distancePrefix,
  KEY_BITS,
  KEY_BYTES,
  randomIdInBucket,
  realmKey,
  sha256,
  sortByDistance,
} from "../../src/dht/keys.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { fromHex, toHex } from "../../src/util/bytes.ts";

function seeded(seed: number, length = KEY_BYTES): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length }, () => Math.floor(r() * 256));
}

/** The slow, obviously correct definitions the fast ones must agree with. */
function bitAt(bytes: Uint8Array, bit: number): number {
  return (bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
}

function naivePrefix(a: Uint8Array, b: Uint8Array): number {
  for (let bit = 0; bit < KEY_BITS; bit++) if (bitAt(a, bit) !== bitAt(b, bit)) return bit;
  return KEY_BITS;
}

function distanceBigInt(target: Uint8Array, key: Uint8Array): bigint {
  return BigInt("0x" + toHex(distance(target, key)));
}

Deno.test("dhtId is SHA-256 of the public key (checked against node:crypto)", () => {
  for (let i = 0; i < 20; i++) {
    const id = new NodeId(KeyPair.generate().publicKey);
    const expected = new Uint8Array(createHash("sha256").update(id.bytes).digest());
    assertEquals(dhtId(id), expected);
    assertEquals(dhtId(id).length, KEY_BYTES);
    assertEquals(dhtId(id).constructor, Uint8Array, "a plain Uint8Array, not a Buffer");
  }
  // A known vector: SHA-256 of the RFC 8032 test 1 public key (an all-zero key is refused as a small-order point).
  assertEquals(
    toHex(dhtId(new NodeId(fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")))),
    "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9",
  );
  assertEquals(toHex(sha256(new Uint8Array(0))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

Deno.test("dhtId is memoised per NodeId and equal for equal ids", () => {
  const kp = KeyPair.generate();
  const a = new NodeId(kp.publicKey);
  const first = dhtId(a);
  assert(dhtId(a) === first, "same NodeId object returns the very same bytes");
  const b = new NodeId(kp.publicKey);
  assertEquals(dhtId(b), first, "another NodeId with the same key has the same DHT id");
  const other = new NodeId(KeyPair.generate().publicKey);
  assertNotEquals(dhtId(other), first);
});

Deno.test("realmKey is stable, 32 bytes, and differs across realm, kind and name", () => {
  const base = realmKey("io.example.app", "rpc", "math.add");
  assertEquals(base.length, KEY_BYTES);
  assertEquals(realmKey("io.example.app", "rpc", "math.add"), base, "stable across calls");
  const variants = [
    realmKey("io.example.other", "rpc", "math.add"),
    realmKey("default", "rpc", "math.add"),
    realmKey("io.example.app", "sub", "math.add"),
    realmKey("io.example.app", "value", "math.add"),
    realmKey("io.example.app", "node", "math.add"),
    realmKey("io.example.app", "raw", "math.add"),
    realmKey("io.example.app", "rpc", "math.sub"),
    realmKey("io.example.app", "rpc", "math.add "),
    realmKey("io.example.app", "rpc", ""),
  ];
  const all = new Set([toHex(base), ...variants.map(toHex)]);
  assertEquals(all.size, variants.length + 1, "every tuple gets its own key");
  // Tuples are CBOR-encoded, so shifting characters between fields never collides.
  assertNotEquals(realmKey("ab", "rpc", "c"), realmKey("a", "rpc", "bc"));
  assertNotEquals(realmKey("a|rpc", "rpc", "x"), realmKey("a", "rpc", "rpc|x"));
});

Deno.test("distance is XOR, symmetric, zero only for equal ids", () => {
  const a = seeded(1);
  const b = seeded(2);
  const d = distance(a, b);
  for (let i = 0; i < KEY_BYTES; i++) assertEquals(d[i], a[i] ^ b[i]);
  assertEquals(distance(b, a), d);
  assertEquals(distance(a, a), new Uint8Array(KEY_BYTES));
  assert(d.some((x) => x !== 0));
  // Inputs are not modified.
  assertEquals(a, seeded(1));
  assertEquals(b, seeded(2));
});

Deno.test("compareDistance agrees with the numeric XOR distance", () => {
  const r = rng(7);
  for (let i = 0; i < 2000; i++) {
    const target = seeded(1000 + i);
    const a = seeded(5000 + i);
    // Half the cases share a long prefix with b, to exercise late bytes.
    const b = r() < 0.5 ? seeded(9000 + i) : Uint8Array.from(a, (x, j) => j < 30 ? x : (x + 1 + j) & 0xff);
    const expected = distanceBigInt(target, a) - distanceBigInt(target, b);
    const got = compareDistance(target, a, b);
    assertEquals(Math.sign(got), expected === 0n ? 0 : expected < 0n ? -1 : 1, `case ${i}`);
    assertEquals(Math.sign(compareDistance(target, b, a)), -Math.sign(got));
  }
  const t = seeded(3);
  assertEquals(compareDistance(t, t, t), 0);
  assertEquals(compareDistance(t, seeded(4), seeded(4)), 0);
  assert(compareDistance(t, t, seeded(4)) < 0, "the target itself is closest");
});

Deno.test("commonPrefixLength: 0, 255, 256 and every bit position", () => {
  const a = seeded(11);
  assertEquals(commonPrefixLength(a, a), 256, "equal ids share all 256 bits");
  assertEquals(commonPrefixLength(a, Uint8Array.from(a)), 256);
  const flipFirst = Uint8Array.from(a);
  flipFirst[0] ^= 0x80;
  assertEquals(commonPrefixLength(a, flipFirst), 0);
  const flipLast = Uint8Array.from(a);
  flipLast[31] ^= 0x01;
  assertEquals(commonPrefixLength(a, flipLast), 255);
  assertEquals(commonPrefixLength(new Uint8Array(32), new Uint8Array(32).fill(0xff)), 0);
  for (let bit = 0; bit < KEY_BITS; bit++) {
    const b = Uint8Array.from(a);
    b[bit >> 3] ^= 0x80 >> (bit & 7);
    assertEquals(commonPrefixLength(a, b), bit, `flip of bit ${bit}`);
    assertEquals(commonPrefixLength(b, a), bit);
    // Later differences do not matter.
    b[31] ^= 0x01;
    if (bit < 255) assertEquals(commonPrefixLength(a, b), bit, `flip of bit ${bit} and 255`);
  }
  for (let i = 0; i < 500; i++) {
    const x = seeded(20_000 + i);
    const y = Uint8Array.from(seeded(40_000 + i), (v, j) => j < (i % 32) ? x[j] : v);
    assertEquals(commonPrefixLength(x, y), naivePrefix(x, y), `random case ${i}`);
  }
});

Deno.test("randomIdInBucket lands in the requested bucket for every prefix 0..256", () => {
  for (let trial = 0; trial < 8; trial++) {
    const self = trial === 0 ? new Uint8Array(32) : trial === 1 ? new Uint8Array(32).fill(0xff) : seeded(300 + trial);
    for (let prefix = 0; prefix < KEY_BITS; prefix++) {
      const id = randomIdInBucket(self, prefix);
      assertEquals(id.length, KEY_BYTES);
      assertEquals(commonPrefixLength(self, id), prefix, `trial ${trial} prefix ${prefix}`);
      assertEquals(naivePrefix(self, id), prefix);
    }
    assertEquals(randomIdInBucket(self, 256), self, "prefix 256 is the id itself");
  }
  // The bits after the prefix are random: many ids in one bucket are distinct.
  const self = seeded(99);
  const ids = new Set(Array.from({ length: 200 }, () => toHex(randomIdInBucket(self, 10))));
  assertEquals(ids.size, 200);
  // And `self` is never modified.
  assertEquals(self, seeded(99));
});

Deno.test("distancePrefix is the leading 48 bits of the XOR distance", () => {
  const t = seeded(5);
  const k = seeded(6);
  const expected = Number(distanceBigInt(t, k) >> 208n);
  assertEquals(distancePrefix(t, k), expected);
  assertEquals(distancePrefix(t, t), 0);
  assertEquals(distancePrefix(new Uint8Array(32), new Uint8Array(32).fill(0xff)), 2 ** 48 - 1);
});

Deno.test("sortByDistance orders by XOR distance, closest first", () => {
  for (let round = 0; round < 20; round++) {
    const target = seeded(700 + round);
    const keys = Array.from({ length: 300 }, (_, i) => seeded(round * 1000 + i + 10_000));
    const items = keys.map((key, i) => ({ i, key }));
    const sorted = sortByDistance(target, items, (x) => x.key);
    assertEquals(sorted.length, items.length);
    assertEquals(new Set(sorted.map((x) => x.i)).size, items.length, "a permutation");
    const expected = [...items].sort((a, b) => {
      const d = distanceBigInt(target, a.key) - distanceBigInt(target, b.key);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
    assertEquals(sorted.map((x) => x.i), expected.map((x) => x.i), `round ${round}`);
    // The input array is left alone.
    assertEquals(items.map((x) => x.i), keys.map((_, i) => i));
  }
});

Deno.test("sortByDistance breaks ties in the first 48 bits with the full distance", () => {
  const target = seeded(42);
  const r = rng(43);
  // 200 keys sharing the same first 6 bytes, so their 48-bit prefixes are all equal.
  const keys = Array.from({ length: 200 }, () => {
    const k = Uint8Array.from({ length: 32 }, () => Math.floor(r() * 256));
    k.set([1, 2, 3, 4, 5, 6], 0);
    return k;
  });
  // Plus keys that differ only in the very last byte.
  for (let v = 0; v < 16; v++) {
    const k = Uint8Array.from(keys[0]);
    k[31] = v;
    keys.push(k);
  }
  const prefixes = new Set(keys.map((k) => distancePrefix(target, k)));
  assertEquals(prefixes.size, 1, "all 48-bit prefixes tie");
  const sorted = sortByDistance(target, [...keys].reverse(), (k) => k);
  for (let i = 1; i < sorted.length; i++) {
    assert(compareDistance(target, sorted[i - 1], sorted[i]) <= 0, `out of order at ${i}`);
    assert(distanceBigInt(target, sorted[i - 1]) <= distanceBigInt(target, sorted[i]));
  }
  // Keys at different 48-bit prefixes still come out ordered across the tie groups.
  const mixed = [...keys.slice(0, 50), ...Array.from({ length: 50 }, (_, i) => seeded(77_000 + i))];
  const sortedMixed = sortByDistance(target, mixed, (k) => k);
  for (let i = 1; i < sortedMixed.length; i++) {
    assert(distanceBigInt(target, sortedMixed[i - 1]) <= distanceBigInt(target, sortedMixed[i]), `mixed at ${i}`);
  }
});

Deno.test("sortByDistance handles empty and single-item lists", () => {
  const target = seeded(1);
  assertEquals(sortByDistance(target, [] as Uint8Array[], (k) => k), []);
  const one = seeded(2);
  assertEquals(sortByDistance(target, [one], (k) => k), [one]);
});
