/** Deterministic input mutation for decoder fuzz loops. */

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mutate `input` deterministically by case number: bit flips, byte
 * overwrites, truncation, extension, deletion, duplication, or pure random
 * bytes.
 */
export function mutate(input: Uint8Array, caseNo: number): Uint8Array {
  const r = rng(caseNo * 2654435761 + 1);
  const pick = (n: number) => Math.floor(r() * n);
  const kind = caseNo % 8;
  let out = input.slice();
  const rounds = 1 + pick(3);
  for (let k = 0; k < rounds; k++) {
    switch (kind) {
      case 0:
        if (out.length) out[pick(out.length)] ^= 1 << pick(8);
        break;
      case 1:
        if (out.length) out[pick(out.length)] = pick(256);
        break;
      case 2:
        out = out.slice(0, pick(out.length + 1));
        break;
      case 3: {
        const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
        const o = new Uint8Array(out.length + extra.length);
        o.set(out);
        o.set(extra, out.length);
        out = o;
        break;
      }
      case 4: {
        const at = pick(out.length + 1);
        const len = pick(8);
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + len)]);
        break;
      }
      case 5: {
        const at = pick(out.length + 1);
        const seg = out.slice(at, at + pick(16));
        out = Uint8Array.from([...out.subarray(0, at), ...seg, ...out.subarray(at)]);
        break;
      }
      case 6:
        if (out.length) out[pick(out.length)] = [0x00, 0xff, 0x7f, 0x80, 0x1b, 0x5b, 0x9b, 0xbb][pick(8)];
        break;
      default:
        out = Uint8Array.from({ length: pick(64) }, () => pick(256));
    }
  }
  return out;
}

/**
 * Run `decode` on `cases` mutations of `valid` (and on `valid` itself, which
 * must decode): every case must decode or throw `ErrorType`, never anything
 * else. Returns how many were rejected.
 */
export function fuzzDecoder(
  name: string,
  valid: Uint8Array,
  decode: (bytes: Uint8Array) => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorType: abstract new (...args: any[]) => Error,
  cases = 10_000,
): number {
  decode(valid);
  let rejected = 0;
  for (let i = 0; i < cases; i++) {
    try {
      decode(mutate(valid, i));
    } catch (error) {
      if (!(error instanceof ErrorType)) {
        throw new Error(
          `case ${i}: ${name} threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`,
        );
      }
      rejected++;
    }
  }
  return rejected;
}
