import { assertEquals, assertRejects } from "../helpers/assert.ts";
import {
  BufferedReader,
  encodeFrame,
  encodeFrames,
  FRAME_HEADER,
  frameLength,
  MAX_FRAME_CEILING,
  putFrameHeader,
  writeFrame,
} from "../../src/wire/frame.ts";
import { WireError } from "../../src/wire/errors.ts";
import { mutate } from "../helpers/mutate.ts";

function source(...chunks: Uint8Array[]) {
  return { read: () => Promise.resolve(chunks.shift() ?? null) };
}

function splitEvery(bytes: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += n) out.push(bytes.subarray(i, i + n));
  return out;
}

Deno.test("frames survive arbitrary chunking", async () => {
  const payloads = [new Uint8Array(0), Uint8Array.of(1), new Uint8Array(70_000).map((_, i) => i * 7)];
  const wire = new Uint8Array(payloads.reduce((n, p) => n + 4 + p.length, 0));
  let off = 0;
  for (const p of payloads) {
    wire.set(encodeFrame(p), off);
    off += 4 + p.length;
  }
  for (const size of [1, 3, 4, 5, 1000, wire.length]) {
    const reader = new BufferedReader(source(...splitEvery(wire, size)));
    for (const p of payloads) assertEquals(await reader.readFrame(), p);
    assertEquals(await reader.readFrame(), null);
  }
});

Deno.test("truncated frames and oversized lengths are WireErrors", async () => {
  const frame = encodeFrame(new Uint8Array(100));
  await assertRejects(() => new BufferedReader(source(frame.subarray(0, 2))).readFrame(), WireError, "truncated");
  await assertRejects(() => new BufferedReader(source(frame.subarray(0, 50))).readFrame(), WireError, "truncated");
  await assertRejects(() => new BufferedReader(source(frame)).readFrame(99), WireError, "oversized");
  const huge = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
  await assertRejects(() => new BufferedReader(source(huge)).readFrame(MAX_FRAME_CEILING), WireError, "oversized");
});

Deno.test("writeFrame refuses oversized payloads before sending anything", async () => {
  const written: Uint8Array[] = [];
  const sink = { write: (c: Uint8Array) => (written.push(c), Promise.resolve()) };
  await assertRejects(() => writeFrame(sink, new Uint8Array(11), 10), WireError, "oversized");
  assertEquals(written.length, 0);
  await writeFrame(sink, new Uint8Array(100_000));
  assertEquals(written.reduce((n, c) => n + c.length, 0), 100_004);
});

Deno.test("10,000 mutated frame streams: frames or WireErrors, never anything else", async () => {
  const valid = new Uint8Array([...encodeFrame(Uint8Array.of(1, 2, 3)), ...encodeFrame(new Uint8Array(40))]);
  for (let i = 0; i < 10_000; i++) {
    const reader = new BufferedReader(source(mutate(valid, i)));
    try {
      while ((await reader.readFrame(64)) !== null) {
        // keep reading
      }
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
    }
  }
});

Deno.test("frame headers: big-endian lengths round-trip at every size boundary", () => {
  for (const n of [0, 1, 255, 256, 65535, 65536, 2 ** 24 - 1, 2 ** 24, 2 ** 32 - 1]) {
    const buf = new Uint8Array(FRAME_HEADER + 2);
    putFrameHeader(buf, 1, n);
    assertEquals(frameLength(buf, 1), n);
    const expected = new Uint8Array(4);
    new DataView(expected.buffer).setUint32(0, n);
    assertEquals(buf.subarray(1, 5), expected);
  }
});

Deno.test("encodeFrames: one buffer of frames that BufferedReader splits back, whatever the chunking", async () => {
  const payloads = [Uint8Array.of(1, 2, 3), new Uint8Array(0), new Uint8Array(300).fill(9), Uint8Array.of(7)];
  const wire = encodeFrames(payloads);
  assertEquals(wire.length, payloads.reduce((n, p) => n + FRAME_HEADER + p.length, 0));
  let concatenated = new Uint8Array(0);
  for (const p of payloads) concatenated = Uint8Array.of(...concatenated, ...encodeFrame(p));
  assertEquals(wire, concatenated);
  for (const size of [1, 2, 5, 17, wire.length]) {
    const reader = new BufferedReader(source(...splitEvery(wire, size)));
    for (const p of payloads) assertEquals(await reader.readFrame(), p);
    assertEquals(await reader.readFrame(), null);
  }
  assertEquals(encodeFrames([]), new Uint8Array(0));
});
