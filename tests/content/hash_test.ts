/**
 * The tree hashers: each node kind is the codec's plain hash of a domain
 * byte and its inputs (checked against hash-wasm's one-shot functions), the
 * domains are separated, and one shared hasher per codec stays correct when
 * both codecs interleave.
 */
import { blake3, sha256 } from "npm:hash-wasm@4.13.0";
import { assert, assertEquals } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { type Codec, CODEC_CODES, CODECS, HASH_LENGTH, loadHasher } from "../../src/content/hash.ts";
import { fromHex } from "../../src/util/bytes.ts";

async function plain(codec: Codec, ...parts: (number[] | Uint8Array)[]): Promise<Uint8Array> {
  const all = Uint8Array.from(parts.flatMap((p) => Array.from(p)));
  return fromHex(codec === "blake3" ? await blake3(all) : await sha256(all));
}

function bytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

function u64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

Deno.test("hash: codecs, codes and the shared hasher", async () => {
  assertEquals(CODECS, ["blake3", "sha256"]);
  assertEquals(CODEC_CODES, { blake3: 0x1e, sha256: 0x12 });
  for (const codec of CODECS) {
    const a = await loadHasher(codec);
    assertEquals(a.codec, codec);
    assert(a === await loadHasher(codec), "one hasher per codec");
  }
  const [x, y] = await Promise.all([loadHasher("blake3"), loadHasher("blake3")]);
  assert(x === y);
});

Deno.test("hash: leaf, parent and root are the plain hash of a domain byte and their inputs", async () => {
  for (const codec of CODECS) {
    const h = await loadHasher(codec);
    for (const n of [0, 1, 64, 16383, 16384]) {
      const group = bytes(n, n);
      const leaf = h.leaf(group);
      assertEquals(leaf.length, HASH_LENGTH);
      assertEquals(leaf, await plain(codec, [0], group), `${codec} leaf of ${n}`);
    }
    const l = bytes(32, 1), r = bytes(32, 2);
    assertEquals(h.parent(l, r), await plain(codec, [1], l, r));
    for (const size of [0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      assertEquals(h.root(l, size), await plain(codec, [2], u64le(size), l), `${codec} root size ${size}`);
    }
  }
});

Deno.test("hash: domains are separated (a leaf is never a parent, a root binds the size)", async () => {
  for (const codec of CODECS) {
    const h = await loadHasher(codec);
    const l = bytes(32, 3), r = bytes(32, 4);
    const joined = new Uint8Array([...l, ...r]);
    assert(!sameBytes(h.leaf(joined), h.parent(l, r)));
    assert(!sameBytes(h.leaf(joined), await plain(codec, joined)));
    assert(!sameBytes(h.root(l, 1), h.root(l, 2)));
    assert(!sameBytes(h.root(l, 64), h.leaf(l)));
    assert(!sameBytes(h.parent(l, r), h.parent(r, l)));
  }
});

Deno.test("hash: interleaving both codecs on the shared hashers gives the same answers", async () => {
  const b = await loadHasher("blake3");
  const s = await loadHasher("sha256");
  const data = bytes(5000, 5);
  const first = [b.leaf(data), s.leaf(data)];
  for (let i = 0; i < 50; i++) {
    assertEquals(b.leaf(data), first[0]);
    s.parent(first[0], first[1]);
    assertEquals(s.leaf(data), first[1]);
    b.root(first[1], i);
  }
  // The returned hashes are fresh copies, not views into WASM memory that a later call overwrites.
  const kept = b.leaf(new Uint8Array(1));
  const copy = kept.slice();
  b.leaf(new Uint8Array(2));
  assertEquals(kept, copy);
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
