import assert from "node:assert/strict";
import { WireError } from "../../../src/wire/errors.ts";
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameParser,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  MAX_DATA_PAYLOAD,
  MUX_FRAME,
  MUX_VERSION,
} from "../../../src/transport/mux/frame.ts";
import type { Frame, FrameHeader } from "../../../src/transport/mux/frame.ts";

/** Build header bytes field by field, bypassing the encoder's checks. */
function raw(
  version: number,
  type: number,
  flags: number,
  streamId: number,
  length: number,
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint8(0, version);
  view.setUint8(1, type);
  view.setUint16(2, flags);
  view.setUint32(4, streamId);
  view.setUint32(8, length);
  return out;
}

function assertWireError(
  fn: () => unknown,
  code: string,
  pattern: RegExp,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof WireError, `expected WireError, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.messageType, MUX_FRAME);
    assert.match(e.message, pattern);
    return true;
  });
}

/** A deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const VALID: FrameHeader[] = [
  { type: FrameType.Data, flags: 0, streamId: 1, length: 0 },
  { type: FrameType.Data, flags: Flag.SYN, streamId: 3, length: 100 },
  {
    type: FrameType.Data,
    flags: Flag.ACK | Flag.FIN,
    streamId: 2,
    length: MAX_DATA_PAYLOAD,
  },
  { type: FrameType.Data, flags: Flag.RST, streamId: 0xffff_ffff, length: 1 },
  {
    type: FrameType.Data,
    flags: Flag.SYN | Flag.FIN | Flag.RST,
    streamId: 7,
    length: 5,
  },
  { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 },
  {
    type: FrameType.WindowUpdate,
    flags: Flag.ACK,
    streamId: 2,
    length: 0xffff_ffff,
  },
  { type: FrameType.WindowUpdate, flags: 0, streamId: 9, length: 128 * 1024 },
  { type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 0 },
  { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 0xdead_beef },
  { type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.Normal },
  {
    type: FrameType.GoAway,
    flags: 0,
    streamId: 0,
    length: GoAwayCode.ProtocolError,
  },
  {
    type: FrameType.GoAway,
    flags: 0,
    streamId: 0,
    length: GoAwayCode.InternalError,
  },
];

Deno.test("mux frame: headers round-trip", () => {
  for (const header of VALID) {
    const bytes = encodeHeader(header);
    assert.equal(bytes.length, HEADER_SIZE);
    assert.equal(bytes[0], MUX_VERSION);
    assert.deepEqual(decodeHeader(bytes), header);
  }
});

Deno.test("mux frame: layout is big-endian", () => {
  const bytes = encodeHeader({
    type: FrameType.Data,
    flags: Flag.SYN | Flag.FIN,
    streamId: 0x01020304,
    length: 0x0a0b,
  });
  assert.deepEqual([...bytes], [1, 0, 0, 5, 1, 2, 3, 4, 0, 0, 0x0a, 0x0b]);
});

Deno.test("mux frame: decodeHeader reads at an offset", () => {
  const header = VALID[2];
  const bytes = new Uint8Array(5 + HEADER_SIZE + 3);
  bytes.set(encodeHeader(header), 5);
  assert.deepEqual(decodeHeader(bytes, 5), header);
  assertWireError(
    () => decodeHeader(bytes, 9),
    "E_WIRE_TRUNCATED",
    /needs 12 bytes, got 11/,
  );
});

Deno.test("mux frame: truncated headers", () => {
  const bytes = encodeHeader(VALID[1]);
  for (let n = 0; n < HEADER_SIZE; n++) {
    assertWireError(
      () => decodeHeader(bytes.subarray(0, n)),
      "E_WIRE_TRUNCATED",
      new RegExp(`got ${n}$`),
    );
  }
});

Deno.test("mux frame: every invalid field is rejected", () => {
  const cases: [Uint8Array, string, RegExp][] = [
    [raw(0, 0, 0, 1, 0), "E_WIRE_INVALID", /unsupported version 0/],
    [raw(2, 0, 0, 1, 0), "E_WIRE_INVALID", /unsupported version 2/],
    [raw(255, 2, 1, 0, 0), "E_WIRE_INVALID", /unsupported version 255/],
    [raw(1, 4, 0, 1, 0), "E_WIRE_INVALID", /unknown frame type 4/],
    [raw(1, 255, 0, 1, 0), "E_WIRE_INVALID", /unknown frame type 255/],
    // flags
    [raw(1, 0, 16, 1, 0), "E_WIRE_INVALID", /flags 0x0010 not allowed on DATA/],
    [
      raw(1, 1, 0x8000, 1, 0),
      "E_WIRE_INVALID",
      /flags 0x8000 not allowed on WINDOW_UPDATE/,
    ],
    [
      raw(1, 0, Flag.SYN | Flag.ACK, 1, 0),
      "E_WIRE_INVALID",
      /DATA must not carry both SYN and ACK/,
    ],
    [
      raw(1, 1, Flag.SYN | Flag.ACK, 1, 0),
      "E_WIRE_INVALID",
      /WINDOW_UPDATE must not carry both SYN and ACK/,
    ],
    [
      raw(1, 2, 0, 0, 0),
      "E_WIRE_INVALID",
      /PING flags must be exactly SYN or ACK, got 0x0000/,
    ],
    [raw(1, 2, Flag.SYN | Flag.ACK, 0, 0), "E_WIRE_INVALID", /PING flags/],
    [raw(1, 2, Flag.FIN, 0, 0), "E_WIRE_INVALID", /PING flags/],
    [raw(1, 2, Flag.SYN | Flag.RST, 0, 0), "E_WIRE_INVALID", /PING flags/],
    [
      raw(1, 3, Flag.SYN, 0, 0),
      "E_WIRE_INVALID",
      /GO_AWAY must not carry flags/,
    ],
    // stream ids
    [raw(1, 0, 0, 0, 0), "E_WIRE_INVALID", /DATA must not use stream id 0/],
    [
      raw(1, 1, Flag.SYN, 0, 0),
      "E_WIRE_INVALID",
      /WINDOW_UPDATE must not use stream id 0/,
    ],
    [
      raw(1, 2, Flag.SYN, 1, 0),
      "E_WIRE_INVALID",
      /PING must use stream id 0, got 1/,
    ],
    [
      raw(1, 3, 0, 0xffff_ffff, 0),
      "E_WIRE_INVALID",
      /GO_AWAY must use stream id 0, got 4294967295/,
    ],
    // lengths
    [
      raw(1, 0, 0, 1, MAX_DATA_PAYLOAD + 1),
      "E_WIRE_OVERSIZED",
      /DATA payload of 65537 bytes exceeds the 65536-byte limit/,
    ],
    [raw(1, 0, 0, 1, 0xffff_ffff), "E_WIRE_OVERSIZED", /exceeds/],
    [raw(1, 3, 0, 0, 3), "E_WIRE_INVALID", /unknown GO_AWAY code 3/],
    [raw(1, 3, 0, 0, 0xffff_ffff), "E_WIRE_INVALID", /unknown GO_AWAY code/],
  ];
  for (const [bytes, code, pattern] of cases) {
    assertWireError(() => decodeHeader(bytes), code, pattern);
    assert.match(
      (() => {
        try {
          decodeHeader(bytes);
        } catch (e) {
          return (e as Error).message;
        }
        return "";
      })(),
      /mux frame: /,
    );
  }
});

Deno.test("mux frame: encodeHeader refuses what decode would reject", () => {
  const bad: FrameHeader[] = [
    { type: 7 as FrameType, flags: 0, streamId: 1, length: 0 },
    { type: FrameType.Data, flags: 0, streamId: 0, length: 0 },
    {
      type: FrameType.Data,
      flags: 0,
      streamId: 1,
      length: MAX_DATA_PAYLOAD + 1,
    },
    {
      type: FrameType.Data,
      flags: Flag.SYN | Flag.ACK,
      streamId: 1,
      length: 0,
    },
    { type: FrameType.Ping, flags: 0, streamId: 0, length: 0 },
    { type: FrameType.GoAway, flags: 0, streamId: 0, length: 9 },
    { type: FrameType.Data, flags: 0, streamId: -1, length: 0 },
    { type: FrameType.Data, flags: 0, streamId: 2 ** 32, length: 0 },
    { type: FrameType.WindowUpdate, flags: 0, streamId: 1, length: 1.5 },
    { type: FrameType.WindowUpdate, flags: 0x10000, streamId: 1, length: 0 },
  ];
  for (const header of bad) {
    assert.throws(() => encodeHeader(header), RangeError);
  }
});

Deno.test("mux frame: random bytes never throw anything but WireError", () => {
  const next = prng(0xc0ffee);
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = new Uint8Array(1 + (next() % (2 * HEADER_SIZE)));
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    if (i % 2 === 0) bytes[0] = MUX_VERSION; // get past the version check half the time
    try {
      decodeHeader(bytes);
      valid++;
    } catch (e) {
      assert.ok(e instanceof WireError, `unexpected ${e}`);
    }
  }
  assert.ok(valid > 0, "some random headers should be valid");
});

Deno.test("mux frame: 10,000+ mutated valid headers decode or throw WireError", () => {
  const next = prng(42);
  const counts = { valid: 0, rejected: 0 };
  for (let i = 0; i < 12_000; i++) {
    const bytes = encodeHeader(VALID[i % VALID.length]);
    const mutations = 1 + (next() % 3);
    for (let m = 0; m < mutations; m++) {
      const at = next() % HEADER_SIZE;
      switch (next() % 3) {
        case 0:
          bytes[at] ^= 1 << (next() % 8); // flip one bit
          break;
        case 1:
          bytes[at] = next() & 0xff; // replace a byte
          break;
        default:
          bytes[at] = [0, 1, 2, 3, 4, 0xff, 0x7f, 0x80][next() % 8]; // boundary value
      }
    }
    const cut = next() % 10 === 0 ? next() % HEADER_SIZE : HEADER_SIZE; // sometimes truncate
    let header: FrameHeader;
    try {
      header = decodeHeader(bytes.subarray(0, cut));
    } catch (e) {
      assert.ok(e instanceof WireError, `mutation ${i}: unexpected ${e}`);
      counts.rejected++;
      continue;
    }
    counts.valid++;
    // Whatever decodes must re-encode to the same bytes.
    assert.deepEqual(encodeHeader(header), bytes);
  }
  assert.ok(
    counts.valid > 1000 && counts.rejected > 1000,
    JSON.stringify(counts),
  );
});

function frameBytes(
  header: FrameHeader,
  payload = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  out.set(encodeHeader(header));
  out.set(payload, HEADER_SIZE);
  return out;
}

function drain(parser: FrameParser): Frame[] {
  const out: Frame[] = [];
  for (let f = parser.next(); f !== null; f = parser.next()) out.push(f);
  return out;
}

Deno.test("mux frame: parser reassembles frames from any chunking", () => {
  const payload = new Uint8Array(70_000).map((_, i) => i * 7);
  const stream = new Uint8Array([
    ...frameBytes({
      type: FrameType.Data,
      flags: Flag.SYN,
      streamId: 1,
      length: 3,
    }, payload.subarray(0, 3)),
    ...frameBytes({
      type: FrameType.Ping,
      flags: Flag.SYN,
      streamId: 0,
      length: 9,
    }),
    ...frameBytes({
      type: FrameType.Data,
      flags: 0,
      streamId: 1,
      length: MAX_DATA_PAYLOAD,
    }, payload.subarray(0, MAX_DATA_PAYLOAD)),
    ...frameBytes({
      type: FrameType.Data,
      flags: Flag.FIN,
      streamId: 1,
      length: 0,
    }),
    ...frameBytes({
      type: FrameType.WindowUpdate,
      flags: 0,
      streamId: 1,
      length: 4096,
    }),
  ]);
  const next = prng(7);
  for (const size of [1, 5, 12, 13, 1000, 65_548, stream.length, -1]) {
    const parser = new FrameParser();
    const frames: Frame[] = [];
    for (let off = 0; off < stream.length;) {
      const n = size === -1 ? 1 + (next() % 20_000) : size;
      parser.push(stream.slice(off, off + n));
      off += n;
      frames.push(...drain(parser));
    }
    assert.equal(parser.buffered, 0);
    assert.deepEqual(
      frames.map((f) => [f.type, f.flags, f.streamId, f.length]),
      [
        [FrameType.Data, Flag.SYN, 1, 3],
        [FrameType.Ping, Flag.SYN, 0, 9],
        [FrameType.Data, 0, 1, MAX_DATA_PAYLOAD],
        [FrameType.Data, Flag.FIN, 1, 0],
        [FrameType.WindowUpdate, 0, 1, 4096],
      ],
      `chunk size ${size}`,
    );
    assert.deepEqual(frames[0].payload, payload.subarray(0, 3));
    assert.deepEqual(frames[2].payload, payload.subarray(0, MAX_DATA_PAYLOAD));
    assert.equal(frames[1].payload.length, 0);
  }
});

Deno.test("mux frame: parser waits for a whole payload and rejects a bad header", () => {
  const parser = new FrameParser();
  parser.push(
    frameBytes(
      { type: FrameType.Data, flags: 0, streamId: 1, length: 10 },
      new Uint8Array(10),
    ).subarray(0, 15),
  );
  assert.equal(parser.next(), null);
  assert.equal(parser.buffered, 15);
  parser.push(new Uint8Array(12)); // the last 7 payload bytes, then 5 bytes of the next header
  assert.equal(parser.next()?.payload.length, 10);
  assert.equal(parser.next(), null);
  assert.equal(parser.buffered, 5);
  parser.push(new Uint8Array(7)); // 12 zero bytes: a header with version 0
  assert.throws(() => parser.next(), /unsupported version 0/);
});
