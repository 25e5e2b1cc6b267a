/**
 * The content tree: group arithmetic at the boundary sizes, the streaming
 * builder against the one-shot hash, leaf and group verification, and a
 * known-answer vector rebuilt here by hand from hash-wasm's plain BLAKE3 and
 * SHA-256, which pins the documented construction (domain bytes, the
 * left-balanced split, the size in the root).
 */
import { blake3, sha256 } from "npm:hash-wasm@4.13.0";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import {
  GROUP_SIZE,
  groupCount,
  groupLength,
  groupMatches,
  hashBytes,
  leavesMatch,
  rootOf,
  TreeBuilder,
} from "../../src/content/tree.ts";
import { type Codec, CODECS, loadHasher } from "../../src/content/hash.ts";
import { Mcid } from "../../src/content/mcid.ts";
import { ContentVerificationError } from "../../src/content/errors.ts";
import { fromHex } from "../../src/util/bytes.ts";

const G = GROUP_SIZE;
const BOUNDARY = [0, 1, G - 1, G, G + 1, 3 * G, 5 * G + 7];

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);
}

function random(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** H(parts…) with hash-wasm's plain one-shot functions (not our TreeHasher). */
async function plain(codec: Codec, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return fromHex(codec === "blake3" ? await blake3(all) : await sha256(all));
}

/**
 * The documented construction, written out independently: leaf = H(0x00 ‖ group),
 * parent = H(0x01 ‖ left ‖ right) with the left side holding the largest
 * power of two of leaves below n, root = H(0x02 ‖ u64le(size) ‖ top).
 */
async function referenceMcid(codec: Codec, data: Uint8Array): Promise<Mcid> {
  const n = Math.max(1, Math.ceil(data.length / G));
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < n; i++) leaves.push(await plain(codec, new Uint8Array([0]), data.subarray(i * G, (i + 1) * G)));
  const top = async (list: Uint8Array[]): Promise<Uint8Array> => {
    if (list.length === 1) return list[0];
    const left = 2 ** Math.floor(Math.log2(list.length - 1));
    return plain(codec, new Uint8Array([1]), await top(list.slice(0, left)), await top(list.slice(left)));
  };
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(data.length), true);
  return new Mcid(codec, data.length, await plain(codec, new Uint8Array([2]), size, await top(leaves)));
}

Deno.test("tree: group count and lengths at the boundary sizes", () => {
  const expected: Record<number, number[]> = {
    0: [0],
    1: [1],
    [G - 1]: [G - 1],
    [G]: [G],
    [G + 1]: [G, 1],
    [3 * G]: [G, G, G],
    [5 * G + 7]: [G, G, G, G, G, 7],
  };
  for (const size of BOUNDARY) {
    const n = groupCount(size);
    const lengths = Array.from({ length: n }, (_, i) => groupLength(i, size));
    assertEquals(lengths, expected[size], `size ${size}`);
    assertEquals(lengths.reduce((a, b) => a + b, 0), size);
    assertEquals(groupLength(n, size), 0);
  }
  assertEquals(groupCount(2 ** 40), 2 ** 26);
  assertEquals(groupCount(Number.MAX_SAFE_INTEGER), Math.ceil(Number.MAX_SAFE_INTEGER / G));
});

Deno.test("tree: the builder fed in odd slices equals the one-shot hash at every boundary size", async () => {
  const slicings = [[1], [7, 16383, 2], [16385], [5000, 1, 30000], [G]];
  for (const codec of CODECS) {
    for (const size of BOUNDARY) {
      const data = random(size, size + 1);
      const whole = await hashBytes(data, codec);
      assertEquals(whole.mcid.size, size);
      assertEquals(whole.mcid.codec, codec);
      assertEquals(whole.leaves.length, groupCount(size) * 32);
      for (const slices of slicings) {
        if (slices[0] === 1 && size > 3 * G) continue; // byte-at-a-time: small sizes are enough
        const b = await TreeBuilder.create(codec);
        let off = 0, k = 0;
        while (off < size) {
          const n = slices[k++ % slices.length];
          b.push(data.subarray(off, off + n));
          b.push(new Uint8Array(0));
          off += n;
        }
        assertEquals(b.size, size);
        const got = b.finish();
        assert(got.mcid.equals(whole.mcid), `${codec} size ${size} slices ${slices}`);
        assertEquals(got.leaves, whole.leaves);
      }
    }
  }
});

Deno.test("tree: known-answer vectors (hand-built tree over hash-wasm's plain BLAKE3 and SHA-256)", async () => {
  const pinned: Record<string, Record<Codec, string>> = {
    "40000": {
      blake3: "baepmboacnbfkv4y7lraqso62lwxptigngbcsh47dlq5glfj5lswd7u7jw5zq",
      sha256: "baejmboacl775c77kijr7evzaufm4hp3aarxmnwetdgei3hveinwkhn5zqbzq",
    },
    "81927": {
      blake3: "baepipaafisozq2so5j4diz4oa4uxqcwm3wtolrjisftwa7wzdcnfjzvpltkq",
      sha256: "baejipaaf35v4hqx2l2l2hfju3rmsrzh6othhmgjkkkp23xqjwdqkdeh4nlsa",
    },
  };
  for (const size of [40_000, 5 * G + 7, 0, 1, G, 4 * G]) {
    const data = pattern(size);
    for (const codec of CODECS) {
      const want = await referenceMcid(codec, data);
      const { mcid } = await hashBytes(data, codec);
      assert(mcid.equals(want), `${codec} ${size}: ${mcid} ≠ reference ${want}`);
      const pin = pinned[String(size)]?.[codec];
      if (pin) assertEquals(mcid.toString(), pin, `${codec} ${size} pinned vector`);
    }
  }
});

Deno.test("tree: leavesMatch accepts the right leaves and rejects a flipped bit, a missing leaf, the wrong codec", async () => {
  for (const codec of CODECS) {
    const h = await loadHasher(codec);
    const other = await loadHasher(codec === "blake3" ? "sha256" : "blake3");
    for (const size of [0, G + 1, 5 * G + 7]) {
      const { mcid, leaves } = await hashBytes(random(size, 7), codec);
      assert(leavesMatch(h, mcid, leaves));
      assert(!leavesMatch(other, mcid, leaves), "wrong codec");
      for (let bit = 0; bit < leaves.length * 8; bit += 37) {
        const flipped = leaves.slice();
        flipped[bit >> 3] ^= 1 << (bit & 7);
        assert(!leavesMatch(h, mcid, flipped), `bit ${bit}`);
      }
      assert(!leavesMatch(h, mcid, leaves.subarray(0, leaves.length - 32)), "missing leaf");
      assert(!leavesMatch(h, mcid, new Uint8Array([...leaves, ...leaves.subarray(0, 32)])), "extra leaf");
      assert(!leavesMatch(h, mcid, leaves.subarray(0, leaves.length - 1)), "short leaf");
      // The same leaves under another size or root do not match.
      assert(!leavesMatch(h, new Mcid(codec, size + 1, mcid.root), leaves), "size + 1");
      if (size > 0) assert(!leavesMatch(h, new Mcid(codec, size - 1, mcid.root), leaves), "size - 1");
      const wrongRoot = mcid.root.slice();
      wrongRoot[31] ^= 0x80;
      assert(!leavesMatch(h, new Mcid(codec, size, wrongRoot), leaves), "root");
    }
    // Swapping two leaves breaks the root (order is bound).
    const { mcid, leaves } = await hashBytes(random(3 * G, 8), codec);
    const swapped = new Uint8Array([...leaves.subarray(32, 64), ...leaves.subarray(0, 32), ...leaves.subarray(64)]);
    assert(!leavesMatch(h, mcid, swapped));
    assertThrows(() => rootOf(h, leaves.subarray(0, 64), 3 * G), ContentVerificationError, "expected 3 leaf hashes");
  }
});

Deno.test("tree: groupMatches accepts each group and rejects wrong length, bit flips, wrong or out-of-range index", async () => {
  for (const codec of CODECS) {
    const h = await loadHasher(codec);
    for (const size of [0, 1, G, G + 1, 3 * G, 5 * G + 7]) {
      const data = random(size, size);
      const { leaves } = await hashBytes(data, codec);
      const n = groupCount(size);
      for (let i = 0; i < n; i++) {
        const group = data.subarray(i * G, i * G + groupLength(i, size));
        assert(groupMatches(h, leaves, size, i, group), `${codec} ${size} group ${i}`);
        if (group.length > 0) {
          const flipped = group.slice();
          flipped[(i * 977) % group.length] ^= 1 << (i % 8);
          assert(!groupMatches(h, leaves, size, i, flipped), "bit flip");
          assert(!groupMatches(h, leaves, size, i, group.subarray(0, group.length - 1)), "one byte short");
        }
        assert(!groupMatches(h, leaves, size, i, new Uint8Array([...group, 0])), "one byte long");
        if (n > 1) assert(!groupMatches(h, leaves, size, (i + 1) % n, group), "another index");
      }
      for (const index of [-1, n, n + 1, 0.5, NaN, 2 ** 53]) {
        assert(!groupMatches(h, leaves, size, index, data.subarray(0, groupLength(0, size))), `index ${index}`);
      }
    }
  }
});

Deno.test("tree: the size is bound — same prefix or same leaves with another size give another MCID", async () => {
  for (const codec of CODECS) {
    const h = await loadHasher(codec);
    const data = pattern(3 * G + 1);
    const ids = await Promise.all(
      [G - 1, G, G + 1, 3 * G, 3 * G + 1].map((n) => hashBytes(data.subarray(0, n), codec)),
    );
    const texts = new Set(ids.map(({ mcid }) => mcid.toString()));
    assertEquals(texts.size, ids.length);
    // Zero padding is not the same content.
    const zeros = await hashBytes(new Uint8Array(G), codec);
    const shorter = await hashBytes(new Uint8Array(G - 1), codec);
    assert(!zeros.mcid.equals(shorter.mcid));
    // One leaf under two sizes: different roots.
    const { leaves } = await hashBytes(new Uint8Array(100), codec);
    assertNotSame(rootOf(h, leaves, 100), rootOf(h, leaves, 101));
  }
});

Deno.test("tree: blake3 and sha256 give different roots for the same content", async () => {
  for (const size of [0, 1, G + 1]) {
    const a = await hashBytes(pattern(size), "blake3");
    const b = await hashBytes(pattern(size), "sha256");
    assertNotSame(a.mcid.root, b.mcid.root);
    assert(a.mcid.toString() !== b.mcid.toString());
    assert(a.mcid.toString().startsWith("baep"), a.mcid.toString()); // version 1, codec 0x1e
    assert(b.mcid.toString().startsWith("baej"), b.mcid.toString()); // version 1, codec 0x12
  }
});

function assertNotSame(a: Uint8Array, b: Uint8Array): void {
  assertEquals(a.length, b.length);
  assert(a.some((x, i) => x !== b[i]), "expected different bytes");
}
