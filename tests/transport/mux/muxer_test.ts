import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { TimeoutError } from "../../../src/util/async.ts";
import { concat, utf8 } from "../../../src/util/bytes.ts";
import { WireError } from "../../../src/wire/errors.ts";
import { ConnectionClosedError, LimitError } from "../../../src/transport/errors.ts";
import { StreamClosedError, StreamResetError } from "../../../src/transport/stream.ts";
import type { ByteStream } from "../../../src/transport/stream.ts";
import {
  encodeHeader,
  Flag,
  FrameParser,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
} from "../../../src/transport/mux/frame.ts";
import type { Frame, FrameHeader } from "../../../src/transport/mux/frame.ts";
import { Muxer } from "../../../src/transport/mux/muxer.ts";
import type { Duplex, MuxerOptions } from "../../../src/transport/mux/muxer.ts";
import { BASE_WINDOW, type MuxStream } from "../../../src/transport/mux/mux-stream.ts";
import { duplexPipe } from "../../helpers/mux_pipe.ts";
import type { MemoryDuplex } from "../../helpers/mux_pipe.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

// ---- helpers -----------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Let queued microtasks and a few event-loop turns run. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await sleep(0);
}

async function readAll(stream: ByteStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let c = await stream.read(); c !== null; c = await stream.read()) {
    chunks.push(c);
  }
  return concat(...chunks);
}

/** An `onStream` handler that echoes everything, then half-closes. */
function echo(stream: ByteStream): void {
  (async () => {
    for (let c = await stream.read(); c !== null; c = await stream.read()) {
      await stream.write(c);
    }
    await stream.closeWrite();
  })().catch(() => stream.reset("echo failed"));
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

interface Pair {
  a: Muxer;
  b: Muxer;
  da: MemoryDuplex;
  db: MemoryDuplex;
  close(): Promise<void>;
}

function pair(
  aOpts: Partial<MuxerOptions> = {},
  bOpts: Partial<MuxerOptions> = {},
  pipe: { bound?: number } = {},
): Pair {
  const [da, db] = duplexPipe(pipe);
  const a = new Muxer(da, { initiator: true, ...aOpts });
  const b = new Muxer(db, { initiator: false, ...bOpts });
  return {
    a,
    b,
    da,
    db,
    async close() {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    },
  };
}

/** The far end of a pipe, speaking raw frames to a muxer under test. */
class RawPeer {
  #parser = new FrameParser();
  constructor(readonly duplex: MemoryDuplex) {}

  send(
    header: FrameHeader,
    payload: Uint8Array = new Uint8Array(0),
  ): Promise<void> {
    const bytes = new Uint8Array(HEADER_SIZE + payload.length);
    bytes.set(
      encodeHeader({
        ...header,
        length: header.type === FrameType.Data ? payload.length : header.length,
      }),
    );
    bytes.set(payload, HEADER_SIZE);
    return this.duplex.write(bytes);
  }

  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.duplex.write(bytes);
  }

  /** The next frame the muxer sent, `null` at EOF. */
  async next(): Promise<Frame | null> {
    for (;;) {
      const frame = this.#parser.next();
      if (frame) return frame;
      const chunk = await this.duplex.read().catch(() => null);
      if (chunk === null) return null;
      this.#parser.push(chunk);
    }
  }

  /** Every frame until EOF. */
  async rest(): Promise<Frame[]> {
    const out: Frame[] = [];
    for (let f = await this.next(); f !== null; f = await this.next()) {
      out.push(f);
    }
    return out;
  }
}

function rawPair(
  opts: Partial<MuxerOptions> = {},
  pipe: { bound?: number } = {},
): { muxer: Muxer; peer: RawPeer } {
  const [da, db] = duplexPipe(pipe);
  return {
    muxer: new Muxer(da, { initiator: false, ...opts }),
    peer: new RawPeer(db),
  };
}

// ---- basics --------------------------------------------------------------------

Deno.test("muxer: open a stream and echo", async () => {
  const p = pair({}, { onStream: echo });
  const stream = await p.a.openStream();
  await stream.write(utf8("hello, "));
  await stream.write(utf8("mesh"));
  await stream.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(stream)), "hello, mesh");
  await stream.closed;
  await settle();
  assert.equal(p.a.streamCount, 0);
  assert.equal(p.b.streamCount, 0);
  await p.close();
});

Deno.test("muxer: both sides open streams, with the right id parity", async () => {
  const seen: number[][] = [[], []];
  const p = pair(
    { onStream: (s) => (seen[0].push((s as MuxStream).id), echo(s)) },
    { onStream: (s) => (seen[1].push((s as MuxStream).id), echo(s)) },
  );
  for (let i = 0; i < 3; i++) {
    for (const [from, data] of [[p.a, "from a"], [p.b, "from b"]] as const) {
      const s = await from.openStream();
      await s.write(utf8(`${data} ${i}`));
      await s.closeWrite();
      assert.equal(new TextDecoder().decode(await readAll(s)), `${data} ${i}`);
    }
  }
  assert.deepEqual(seen, [[2, 4, 6], [1, 3, 5]]);
  await p.close();
});

Deno.test("muxer: streams opened before onStream is set are held, then delivered in order", async () => {
  const p = pair();
  const opened = [];
  for (let i = 0; i < 3; i++) {
    const s = await p.a.openStream();
    await s.write(utf8(`#${i}`));
    await s.closeWrite();
    opened.push(s);
  }
  await settle();
  assert.equal(p.b.streamCount, 3);
  const got: string[] = [];
  p.b.onStream((s) => {
    readAll(s).then((bytes) => got.push(new TextDecoder().decode(bytes)));
    s.closeWrite();
  });
  await Promise.all(opened.map((s) => s.closed));
  await settle();
  assert.deepEqual(got, ["#0", "#1", "#2"]);
  await p.close();
});

Deno.test("muxer: 1,000 concurrent streams each echo 16 KiB intact", async () => {
  let writes = 0;
  const [da, db] = duplexPipe();
  const counting: Duplex = {
    read: () => da.read(),
    write: (chunk) => (writes++, da.write(chunk)),
    close: () => da.close(),
  };
  const a = new Muxer(counting, { initiator: true });
  const b = new Muxer(db, { initiator: false, onStream: echo });
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: 1000 }, async (_, i) => {
      const data = pattern(16 * KiB, i + 1);
      const stream = await a.openStream();
      const reply = readAll(stream);
      await stream.write(data);
      await stream.closeWrite();
      const got = await reply;
      await stream.closed;
      return got.length === data.length && got.every((v, j) => v === data[j]);
    }),
  );
  const ms = performance.now() - started;
  assert.equal(results.filter(Boolean).length, 1000);
  await settle();
  assert.equal(a.streamCount, 0);
  assert.equal(b.streamCount, 0);
  // 1,000 SYNs + 1,000 × (16 KiB DATA + FIN) + window updates went out in far fewer writes.
  assert.ok(writes < 500, `${writes} duplex writes`);
  console.log(
    `1,000 × 16 KiB echoed in ${ms.toFixed(0)} ms using ${writes} duplex writes on the opener's side`,
  );
  a.close();
  b.close();
  await Promise.all([a.closed, b.closed]);
});

Deno.test("muxer: small frames from many streams in one turn share one duplex write", async () => {
  let writes = 0;
  const [da, db] = duplexPipe();
  const counting: Duplex = {
    read: () => da.read(),
    write: (chunk) => (writes++, da.write(chunk)),
    close: () => da.close(),
  };
  const a = new Muxer(counting, { initiator: true });
  const b = new Muxer(db, { initiator: false });
  const got: string[] = [];
  b.onStream((s) => void readAll(s).then((bytes) => got.push(new TextDecoder().decode(bytes))));
  await a.ping(); // let the start-up pings go out
  writes = 0;
  const streams = await Promise.all(
    Array.from({ length: 100 }, () => a.openStream()),
  );
  streams.forEach((s, i) => void s.write(utf8(`message ${i}`)).then(() => s.closeWrite()));
  await settle();
  assert.equal(got.length, 100);
  assert.ok(writes <= 3, `${writes} duplex writes for 300 frames`);
  a.close();
  b.close();
  await Promise.all([a.closed, b.closed]);
});

Deno.test("muxer: 256 MiB on one stream, SHA-256 intact", async () => {
  const total = 256 * MiB;
  const chunk = 256 * KiB;
  const source = new Uint8Array(16 * MiB + chunk);
  for (let i = 0; i < source.length; i += 65536) {
    crypto.getRandomValues(source.subarray(i, i + 65536));
  }
  let receiver:
    | Promise<{ bytes: number; digest: string; done: number }>
    | null = null;
  const p = pair({}, {
    onStream: (s) => {
      receiver = (async () => {
        const hash = createHash("sha256");
        let bytes = 0;
        for (let c = await s.read(); c !== null; c = await s.read()) {
          hash.update(c);
          bytes += c.length;
        }
        await s.closeWrite();
        return { bytes, digest: hash.digest("hex"), done: performance.now() };
      })();
    },
  });
  const stream = await p.a.openStream();
  const sent = createHash("sha256");
  const start = performance.now();
  for (let off = 0, i = 0; off < total; off += chunk, i++) {
    const at = (i * 97 * 4096) % (16 * MiB);
    const piece = source.subarray(at, at + chunk);
    sent.update(piece);
    await stream.write(piece);
  }
  await stream.closeWrite();
  assert.equal(await stream.read(), null);
  const result = await receiver!;
  const seconds = (result.done - start) / 1000;
  const mbps = total / 1e6 / seconds;
  console.log(
    `256 MiB over one stream: ${mbps.toFixed(0)} MB/s (${seconds.toFixed(2)} s, SHA-256 on both sides included)`,
  );
  assert.equal(result.bytes, total);
  assert.equal(result.digest, sent.digest("hex"));
  // Loose floor against pathological regressions (typically several hundred MB/s here).
  assert.ok(mbps > 50, `only ${mbps.toFixed(0)} MB/s`);
  await p.close();
});

// ---- flow control and backpressure ----------------------------------------------

Deno.test("muxer: a writer whose peer never reads blocks after one window, then resumes", async () => {
  let inbound: ByteStream | null = null;
  const p = pair({}, { onStream: (s) => (inbound = s) });
  const stream = await p.a.openStream();
  const chunk = 16 * KiB;
  const total = 1 * MiB;
  let accepted = 0;
  const writer = (async () => {
    for (let off = 0; off < total; off += chunk) {
      await stream.write(pattern(chunk, off));
      accepted += chunk;
    }
    await stream.closeWrite();
  })();
  await settle(10);
  assert.equal(accepted, BASE_WINDOW, "blocked after exactly one window");
  assert.equal((stream as MuxStream).sendWindow, 0);
  await settle(10);
  assert.equal(accepted, BASE_WINDOW, "still blocked");
  const received = await readAll(inbound!);
  await writer;
  assert.equal(received.length, total);
  assert.deepEqual(
    received.subarray(total - chunk),
    pattern(chunk, total - chunk),
  );
  await p.close();
});

Deno.test("muxer: a larger initialWindow is announced and honoured", async () => {
  let inbound: ByteStream | null = null;
  const p = pair({}, {
    initialWindow: 1 * MiB,
    onStream: (s) => (inbound = s),
  });
  const stream = await p.a.openStream();
  let accepted = 0;
  const writer = (async () => {
    for (let i = 0; i < 128; i++) {
      await stream.write(new Uint8Array(16 * KiB));
      accepted += 16 * KiB;
    }
    await stream.closeWrite();
  })();
  await settle(10);
  assert.equal(accepted, 1 * MiB);
  assert.equal((await readAll(inbound!)).length, 2 * MiB);
  await writer;
  await p.close();
});

Deno.test("muxer: a slow socket pushes back on writers (bounded outgoing queue)", async () => {
  const { muxer, peer } = rawPair({ initiator: true }, { bound: 64 * KiB });
  const stream = await muxer.openStream();
  // The peer grants a huge window but never reads the socket.
  await peer.send({
    type: FrameType.WindowUpdate,
    flags: Flag.ACK,
    streamId: 1,
    length: 64 * MiB,
  });
  await settle();
  assert.ok((stream as MuxStream).sendWindow > 32 * MiB);
  const total = 16 * MiB;
  let accepted = 0;
  const writer = (async () => {
    for (let off = 0; off < total; off += 64 * KiB) {
      await stream.write(new Uint8Array(64 * KiB));
      accepted += 64 * KiB;
    }
    await stream.closeWrite();
  })();
  await settle(10);
  assert.ok(
    accepted > 0 && accepted <= 2 * MiB,
    `accepted ${accepted} bytes while the socket was full`,
  );
  const before = accepted;
  await settle(10);
  assert.equal(accepted, before);
  // Now the peer drains the socket: everything arrives.
  let data = 0;
  let fin = false;
  while (!fin) {
    const frame = await peer.next();
    assert.ok(frame);
    if (frame.type === FrameType.Data && frame.streamId === 1) {
      data += frame.payload.length;
      fin = (frame.flags & Flag.FIN) !== 0;
    }
  }
  await writer;
  assert.equal(data, total);
  muxer.close();
  peer.duplex.close();
  await muxer.closed;
});

Deno.test("muxer: the receive window auto-tunes upward over a high-latency link", async () => {
  const [da, db] = duplexPipe();
  const delay = 15;
  /** Deliver every write `delay` ms later, in order. */
  const delayed = (inner: MemoryDuplex): Duplex => ({
    read: () => inner.read(),
    write: (chunk) => {
      setTimeout(() => inner.write(chunk).catch(() => {}), delay);
      return Promise.resolve();
    },
    close: () => setTimeout(() => inner.close(), delay + 1),
  });
  const a = new Muxer(delayed(da), { initiator: true });
  let inbound: MuxStream | null = null;
  let received = 0;
  const done = Promise.withResolvers<void>();
  const b = new Muxer(delayed(db), {
    initiator: false,
    maxWindow: 4 * MiB,
    onStream: (s) => {
      inbound = s as MuxStream;
      (async () => {
        for (let c = await s.read(); c !== null; c = await s.read()) {
          received += c.length;
        }
        done.resolve();
      })();
    },
  });
  await a.ping();
  await b.ping();
  assert.ok(a.rtt >= 2 * delay * 0.9, `rtt ${a.rtt}`);
  const stream = await a.openStream();
  const total = 24 * MiB;
  const start = performance.now();
  for (let off = 0; off < total; off += 256 * KiB) {
    await stream.write(new Uint8Array(256 * KiB));
  }
  await stream.closeWrite();
  await done.promise;
  const seconds = (performance.now() - start) / 1000;
  assert.equal(received, total);
  assert.equal(inbound!.receiveWindow, 4 * MiB, "window grew to maxWindow");
  // With a fixed 256 KiB window a 30 ms RTT caps throughput at ~8.7 MB/s (≥ 2.9 s for 24 MiB).
  assert.ok(seconds < 2.5, `took ${seconds.toFixed(2)} s`);
  a.close();
  b.close();
  await Promise.all([a.closed, b.closed]);
  await sleep(delay * 2);
});

// ---- half-close and reset ---------------------------------------------------------

Deno.test("muxer: half-close — each side can still send after the other's FIN", async () => {
  let inbound: ByteStream | null = null;
  const p = pair({}, { onStream: (s) => (inbound = s) });
  const stream = await p.a.openStream();
  await stream.write(utf8("request"));
  await stream.closeWrite();
  await assert.rejects(stream.write(utf8("late")), StreamClosedError);
  await settle();
  const server = inbound!;
  assert.equal(new TextDecoder().decode(await readAll(server)), "request");
  // a's side is finished; b can still talk.
  await server.write(utf8("response 1, "));
  await server.write(utf8("response 2"));
  let closed = false;
  stream.closed.then(() => (closed = true));
  await settle();
  assert.equal(closed, false, "not closed before both FINs");
  assert.equal(p.b.streamCount, 1);
  await server.closeWrite();
  assert.equal(
    new TextDecoder().decode(await readAll(stream)),
    "response 1, response 2",
  );
  await Promise.all([stream.closed, server.closed]);
  assert.equal(p.a.streamCount, 0);
  assert.equal(p.b.streamCount, 0);

  // And the other way round: the responder half-closes first.
  let second: ByteStream | null = null;
  p.b.onStream((s) => (second = s));
  const s2 = await p.a.openStream();
  await settle();
  await second!.write(utf8("early"));
  await second!.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(s2)), "early");
  await s2.write(utf8("still sending"));
  await s2.closeWrite();
  assert.equal(
    new TextDecoder().decode(await readAll(second!)),
    "still sending",
  );
  await Promise.all([s2.closed, second!.closed]);
  await p.close();
});

Deno.test("muxer: reset propagates to the peer", async () => {
  let inbound: ByteStream | null = null;
  const p = pair({}, { onStream: (s) => (inbound = s) });
  const stream = await p.a.openStream();
  await stream.write(utf8("data"));
  await settle();
  const server = inbound!;
  const pendingRead = (async () => {
    assert.deepEqual(await server.read(), utf8("data"));
    return server.read();
  })();
  stream.reset("changed my mind");
  await assert.rejects(
    stream.read(),
    (e) => e instanceof StreamResetError && /changed my mind/.test(e.message),
  );
  await assert.rejects(stream.write(utf8("x")), StreamResetError);
  await assert.rejects(stream.closeWrite(), StreamResetError);
  await assert.rejects(
    pendingRead,
    (e) => e instanceof StreamResetError && /reset by peer/.test(e.message),
  );
  await assert.rejects(server.write(utf8("reply")), StreamResetError);
  await Promise.all([stream.closed, server.closed]);
  assert.equal(p.a.streamCount, 0);
  assert.equal(p.b.streamCount, 0);
  stream.reset(); // idempotent
  // The connection is fine.
  p.b.onStream(echo);
  const again = await p.a.openStream();
  await again.write(utf8("ok"));
  await again.closeWrite();
  assert.deepEqual(await readAll(again), utf8("ok"));
  await p.close();
});

Deno.test("muxer: reset wakes a writer blocked on the window", async () => {
  const p = pair();
  const stream = await p.a.openStream();
  const blocked = stream.write(new Uint8Array(BASE_WINDOW + 1));
  await settle();
  stream.reset();
  await assert.rejects(blocked, StreamResetError);
  await p.close();
});

// ---- limits --------------------------------------------------------------------

Deno.test("muxer: inbound streams beyond maxStreams are reset", async () => {
  const accepted: ByteStream[] = [];
  const p = pair({}, { maxStreams: 2, onStream: (s) => accepted.push(s) });
  const streams = await Promise.all([
    p.a.openStream(),
    p.a.openStream(),
    p.a.openStream(),
  ]);
  await streams[2].write(utf8("optimistic data is ignored")); // may race the RST; must not break anything
  await assert.rejects(streams[2].read(), StreamResetError);
  await streams[2].closed;
  assert.equal(accepted.length, 2);
  assert.equal(p.b.streamCount, 2);
  // Finishing one frees a slot.
  await streams[0].closeWrite();
  await accepted[0].closeWrite();
  await Promise.all([streams[0].closed, accepted[0].closed]);
  const s4 = await p.a.openStream();
  await s4.write(utf8("fits now"));
  await settle();
  assert.equal(accepted.length, 3);
  assert.deepEqual(await accepted[2].read(), utf8("fits now"));
  assert.equal(p.a.isClosed, false);
  assert.equal(p.b.isClosed, false);
  await p.close();
});

// ---- protocol violations ------------------------------------------------------------

async function expectViolation(
  name: string,
  act: (peer: RawPeer) => Promise<void>,
  pattern: RegExp,
): Promise<void> {
  const { muxer, peer } = rawPair();
  await act(peer);
  const info = await muxer.closed;
  assert.equal(info.local, true, name);
  assert.ok(info.error instanceof WireError, `${name}: ${info.error}`);
  assert.match(info.error.message, pattern, name);
  assert.match(info.reason, /^protocol violation: /, name);
  const frames = await peer.rest();
  const goAway = frames.find((f) => f.type === FrameType.GoAway);
  assert.equal(
    goAway?.length,
    GoAwayCode.ProtocolError,
    `${name}: GO_AWAY protocol error`,
  );
  assert.ok(peer.duplex.isClosed === false);
  peer.duplex.close();
}

Deno.test("muxer: protocol violations close the muxer with a WireError and GO_AWAY", async () => {
  const syn = (id: number): FrameHeader => ({
    type: FrameType.WindowUpdate,
    flags: Flag.SYN,
    streamId: id,
    length: 0,
  });
  await expectViolation("bad version", (p) => {
    const bytes = encodeHeader(syn(1));
    bytes[0] = 2;
    return p.sendRaw(bytes);
  }, /unsupported version 2/);
  await expectViolation("bad type", (p) => {
    const bytes = encodeHeader(syn(1));
    bytes[1] = 9;
    return p.sendRaw(bytes);
  }, /unknown frame type 9/);
  await expectViolation("oversized DATA", (p) => {
    const bytes = encodeHeader({
      type: FrameType.Data,
      flags: Flag.SYN,
      streamId: 1,
      length: 1,
    });
    new DataView(bytes.buffer).setUint32(8, 64 * KiB + 1);
    return p.sendRaw(bytes);
  }, /exceeds the 65536-byte limit/);
  await expectViolation("DATA beyond the window", async (p) => {
    await p.send(syn(1));
    for (let i = 0; i < 5; i++) {
      await p.send(
        { type: FrameType.Data, flags: 0, streamId: 1, length: 0 },
        new Uint8Array(64 * KiB),
      );
    }
  }, /stream 1 sent 65536 bytes with only 0 bytes of window left/);
  await expectViolation("DATA for an unknown stream without SYN", async (p) => {
    await p.send(
      { type: FrameType.Data, flags: 0, streamId: 5, length: 0 },
      utf8("hi"),
    );
  }, /DATA for unknown stream 5 without SYN/);
  await expectViolation(
    "WINDOW_UPDATE for a stream we never opened",
    async (p) => {
      await p.send({
        type: FrameType.WindowUpdate,
        flags: 0,
        streamId: 8,
        length: 10,
      });
    },
    /WINDOW_UPDATE for unknown stream 8 without SYN/,
  );
  await expectViolation("duplicate SYN", async (p) => {
    await p.send(syn(1));
    await p.send(syn(1));
  }, /duplicate SYN for stream 1/);
  await expectViolation("SYN reusing an old id", async (p) => {
    await p.send(syn(3));
    await p.send(syn(1));
  }, /duplicate SYN for stream 1/);
  await expectViolation("wrong id parity", async (p) => {
    await p.send(syn(2));
  }, /peer opened stream 2 with our id parity/);
  await expectViolation("DATA after FIN", async (p) => {
    await p.send({
      type: FrameType.Data,
      flags: Flag.SYN | Flag.FIN,
      streamId: 1,
      length: 0,
    }, utf8("a"));
    await p.send(
      { type: FrameType.Data, flags: 0, streamId: 1, length: 0 },
      utf8("b"),
    );
  }, /stream 1 sent DATA after FIN/);
  await expectViolation("window overflow", async (p) => {
    await p.send(syn(1));
    await p.send({
      type: FrameType.WindowUpdate,
      flags: 0,
      streamId: 1,
      length: 0xffff_ffff,
    });
  }, /window grew beyond/);
});

Deno.test("muxer: a valid stream's violation resets its streams too", async () => {
  const { muxer, peer } = rawPair({ initiator: true });
  const stream = await muxer.openStream();
  await peer.sendRaw(new Uint8Array(12)); // version 0
  const info = await muxer.closed;
  assert.ok(info.error instanceof WireError);
  await assert.rejects(stream.read(), StreamResetError);
  await assert.rejects(stream.write(utf8("x")), StreamResetError);
  await stream.closed;
  peer.duplex.close();
});

Deno.test("muxer: late frames for refused or finished streams are ignored", async () => {
  const { muxer, peer } = rawPair({ maxStreams: 0 });
  await peer.send({
    type: FrameType.Data,
    flags: Flag.SYN,
    streamId: 1,
    length: 0,
  }, utf8("one"));
  await peer.send(
    { type: FrameType.Data, flags: 0, streamId: 1, length: 0 },
    utf8("two"),
  );
  await peer.send({
    type: FrameType.WindowUpdate,
    flags: 0,
    streamId: 1,
    length: 100,
  });
  await peer.send({
    type: FrameType.Ping,
    flags: Flag.SYN,
    streamId: 0,
    length: 77,
  });
  const frames: Frame[] = [];
  while (
    !frames.some((f) => f.type === FrameType.Ping && f.flags === Flag.ACK)
  ) frames.push((await peer.next())!);
  const rst = frames.find((f) => f.streamId === 1);
  assert.equal(rst?.flags, Flag.RST);
  assert.equal(frames.at(-1)?.length, 77);
  assert.equal(muxer.isClosed, false);
  muxer.close();
  peer.duplex.close();
});

Deno.test("muxer: a peer that floods pings without reading the answers is cut off", async () => {
  const { muxer, peer } = rawPair({}, { bound: 16 * KiB });
  const count = 80_000;
  const flood = new Uint8Array(count * HEADER_SIZE);
  for (let i = 0; i < count; i++) {
    flood.set(
      encodeHeader({
        type: FrameType.Ping,
        flags: Flag.SYN,
        streamId: 0,
        length: i,
      }),
      i * HEADER_SIZE,
    );
  }
  await peer.sendRaw(flood);
  const info = await muxer.closed;
  assert.ok(info.error instanceof LimitError, String(info.error));
  assert.equal(info.reason, "peer is not reading");
  peer.duplex.close();
});

// ---- failures and closing -----------------------------------------------------------

Deno.test("muxer: a failed duplex read closes the muxer and every stream", async () => {
  let inbound: ByteStream | null = null;
  const p = pair({}, { onStream: (s) => (inbound = s) });
  const streams = await Promise.all([p.a.openStream(), p.a.openStream()]);
  await streams[0].write(utf8("x"));
  await settle();
  const pending = streams[1].read();
  const tamper = new Error("decryption failed: tampered ciphertext");
  p.da.failReads(tamper);
  const info = await p.a.closed;
  assert.equal(info.error, tamper);
  assert.equal(info.local, true);
  assert.match(info.reason, /read failed: decryption failed/);
  await assert.rejects(pending, StreamResetError);
  await assert.rejects(streams[0].read(), StreamResetError);
  await assert.rejects(streams[0].write(utf8("y")), StreamResetError);
  await Promise.all(streams.map((s) => s.closed));
  assert.equal(p.a.streamCount, 0);
  await assert.rejects(p.a.openStream(), ConnectionClosedError);
  // The peer hears GO_AWAY (internal error), then EOF.
  const remote = await p.b.closed;
  assert.equal(remote.reason, "remote closed");
  assert.equal(remote.local, false);
  assert.ok(remote.error instanceof ConnectionClosedError);
  await assert.rejects(inbound!.read(), StreamResetError);
});

Deno.test("muxer: a WireError from the duplex (tampered ciphertext) is a read failure, not a violation", async () => {
  const p = pair();
  const tamper = new WireError(
    "E_WIRE_INVALID",
    "noise transport",
    "authentication tag mismatch",
  );
  p.da.failReads(tamper);
  const info = await p.a.closed;
  assert.equal(info.error, tamper);
  assert.match(info.reason, /^read failed: /);
  await p.close();
});

Deno.test("muxer: a failed duplex write closes the muxer with that error", async () => {
  const [da, db] = duplexPipe();
  const broken = new Error("socket write failed");
  const duplex: Duplex = {
    read: () => da.read(),
    write: () => Promise.reject(broken),
    close: () => da.close(),
  };
  const muxer = new Muxer(duplex, { initiator: true });
  const info = await muxer.closed;
  assert.equal(info.error, broken);
  assert.match(info.reason, /write failed/);
  db.close();
});

Deno.test("muxer: duplex EOF closes with 'remote closed'; fully received data stays readable", async () => {
  const inbound: ByteStream[] = [];
  const p = pair({}, { onStream: (s) => inbound.push(s) });
  const finished = await p.a.openStream();
  const open = await p.a.openStream();
  await settle();
  await inbound[0].write(utf8("last words"));
  await inbound[0].closeWrite(); // `finished` has the whole response; a's write side is still open
  await settle();
  p.db.close();
  const info = await p.a.closed;
  assert.deepEqual(info, { reason: "remote closed", local: false });
  assert.deepEqual(await readAll(finished), utf8("last words"));
  await assert.rejects(finished.write(utf8("x")), StreamResetError);
  await assert.rejects(open.read(), StreamResetError);
  await p.close();
});

Deno.test("muxer: close() is idempotent, closed resolves, the peer sees 'remote closed'", async () => {
  const p = pair({}, { onStream: echo });
  const stream = await p.a.openStream();
  const pendingPing = p.b.ping();
  p.a.close("shutting down");
  p.a.close("again");
  p.a.close("with error", new Error("ignored"));
  assert.deepEqual(await p.a.closed, { reason: "shutting down", local: true });
  assert.equal(p.a.isClosed, true);
  await assert.rejects(stream.read(), /connection closed: shutting down/);
  await assert.rejects(p.a.openStream(), ConnectionClosedError);
  await assert.rejects(p.a.ping(), ConnectionClosedError);
  assert.deepEqual(await p.b.closed, { reason: "remote closed", local: false });
  await pendingPing.then(
    () => {},
    (e) => assert.ok(e instanceof ConnectionClosedError),
  );
  assert.equal(p.da.isClosed, true);
  assert.equal(p.db.isClosed, true);
});

Deno.test("muxer: close(reason, error) sends GO_AWAY with the matching code", async () => {
  for (
    const [error, code] of [
      [undefined, GoAwayCode.Normal],
      [new WireError("E_WIRE_INVALID", "x", "y"), GoAwayCode.ProtocolError],
      [new Error("bug"), GoAwayCode.InternalError],
    ] as const
  ) {
    const { muxer, peer } = rawPair();
    muxer.close("bye", error);
    const info = await muxer.closed;
    assert.equal(info.error, error);
    const frames = await peer.rest();
    assert.equal(frames.at(-1)?.type, FrameType.GoAway);
    assert.equal(frames.at(-1)?.length, code);
    peer.duplex.close();
  }
});

Deno.test("muxer: after the peer's GO_AWAY no new streams are opened", async () => {
  const { muxer, peer } = rawPair({ initiator: true });
  await peer.send({
    type: FrameType.GoAway,
    flags: 0,
    streamId: 0,
    length: GoAwayCode.Normal,
  });
  await settle();
  await assert.rejects(muxer.openStream(), /GO_AWAY/);
  peer.duplex.close();
  assert.deepEqual(await muxer.closed, {
    reason: "remote closed",
    local: false,
  });
});

// ---- pings and keep-alive -------------------------------------------------------------

Deno.test("muxer: ping measures the round-trip time", async () => {
  const p = pair();
  const rtts = await Promise.all([p.a.ping(), p.a.ping(), p.b.ping()]);
  for (const rtt of rtts) assert.ok(rtt >= 0 && rtt < 1000, `rtt ${rtt}`);
  assert.ok(p.a.rtt > 0);
  await p.close();
});

Deno.test("muxer: keep-alive closes the muxer when pings go unanswered", async () => {
  const { muxer, peer } = rawPair({ keepAliveMs: 20 });
  const started = performance.now();
  const info = await muxer.closed;
  const elapsed = performance.now() - started;
  assert.ok(info.error instanceof TimeoutError, String(info.error));
  assert.equal(info.reason, "keep-alive timeout");
  assert.ok(elapsed >= 55 && elapsed < 1000, `closed after ${elapsed} ms`);
  const frames = await peer.rest();
  assert.ok(frames.filter((f) => f.type === FrameType.Ping).length >= 2);
  peer.duplex.close();
});

Deno.test("muxer: keep-alive with an answering peer stays open", async () => {
  const p = pair({ keepAliveMs: 10 }, { keepAliveMs: 10 });
  await sleep(120);
  assert.equal(p.a.isClosed, false);
  assert.equal(p.b.isClosed, false);
  await p.close();
});

Deno.test("muxer: options are validated", () => {
  const [da] = duplexPipe();
  assert.throws(
    () => new Muxer(da, { initiator: true, initialWindow: 1024 }),
    RangeError,
  );
  assert.throws(
    () =>
      new Muxer(da, {
        initiator: true,
        initialWindow: 1 * MiB,
        maxWindow: 512 * KiB,
      }),
    RangeError,
  );
  assert.throws(
    () => new Muxer(da, { initiator: true, maxStreams: -1 }),
    RangeError,
  );
  assert.throws(
    () => new Muxer(da, { initiator: true, keepAliveMs: -5 }),
    RangeError,
  );
});
