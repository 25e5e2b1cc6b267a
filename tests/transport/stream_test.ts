import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { ChunkQueue, StreamClosedError, StreamResetError } from "../../src/transport/stream.ts";
import { MaculaError } from "../../src/util/errors.ts";

const b = (...xs: number[]) => Uint8Array.from(xs);

Deno.test("chunk queue: chunks are read in push order, the same objects", async () => {
  const q = new ChunkQueue();
  const c1 = b(1), c2 = b(2, 3), c3 = b(4, 5, 6);
  q.push(c1);
  q.push(c2);
  q.push(c3);
  assertEquals(q.bytes, 6);
  assert((await q.read()) === c1);
  assertEquals(q.bytes, 5);
  assert((await q.read()) === c2);
  assert((await q.read()) === c3);
  assertEquals(q.bytes, 0);
});

Deno.test("chunk queue: a pending read is resolved by the next push", async () => {
  const q = new ChunkQueue();
  const pending = q.read();
  q.push(b(9, 9));
  assertEquals(await pending, b(9, 9));
  assertEquals(q.bytes, 0, "a chunk handed to a waiting reader is never queued");
});

Deno.test("chunk queue: empty chunks are ignored", async () => {
  const q = new ChunkQueue();
  q.push(new Uint8Array(0));
  q.push(b(1));
  assertEquals(q.bytes, 1);
  assertEquals(await q.read(), b(1));
  const pending = q.read();
  q.push(new Uint8Array(0)); // must not resolve the pending read with an empty chunk
  q.push(b(2));
  assertEquals(await pending, b(2));
});

Deno.test("chunk queue: end() delivers queued data first, then null forever", async () => {
  const q = new ChunkQueue();
  q.push(b(1));
  q.push(b(2));
  q.end();
  assert(q.finished);
  assert(!q.drained, "not drained while data is queued");
  assertEquals(await q.read(), b(1));
  assertEquals(await q.read(), b(2));
  assert(q.drained);
  assertEquals(await q.read(), null);
  assertEquals(await q.read(), null);
});

Deno.test("chunk queue: end() resolves a pending read with null", async () => {
  const q = new ChunkQueue();
  const pending = q.read();
  q.end();
  assertEquals(await pending, null);
  assert(q.drained);
});

Deno.test("chunk queue: pushes after end() or fail() are dropped; end() is idempotent", async () => {
  const q = new ChunkQueue();
  q.end();
  q.end();
  q.push(b(1));
  assertEquals(q.bytes, 0);
  assertEquals(await q.read(), null);
  const f = new ChunkQueue();
  f.fail(new Error("x"));
  f.push(b(1));
  assertEquals(f.bytes, 0);
});

Deno.test("chunk queue: fail() rejects a pending read and every later read, dropping queued data", async () => {
  const q = new ChunkQueue();
  const pending = q.read();
  const err = new StreamResetError("boom");
  q.fail(err);
  const e1 = await assertRejects(() => pending, StreamResetError, "boom");
  assert(e1 === err);
  q.fail(new Error("second failure is ignored"));
  const e2 = await assertRejects(() => q.read(), StreamResetError, "boom");
  assert(e2 === err);

  const q2 = new ChunkQueue();
  q2.push(b(1, 2, 3));
  q2.fail(new StreamResetError("gone"));
  assertEquals(q2.bytes, 0);
  assert(q2.finished);
  assert(!q2.drained, "a failed queue is not a clean end");
  await assertRejects(() => q2.read(), StreamResetError, "gone");
});

Deno.test("chunk queue: fail() after end() turns the clean end into an error", async () => {
  const q = new ChunkQueue();
  q.push(b(1));
  q.end();
  q.fail(new StreamResetError("late reset"));
  await assertRejects(() => q.read(), StreamResetError, "late reset");
});

Deno.test("chunk queue: a second concurrent read() is rejected, the first still works", async () => {
  const q = new ChunkQueue();
  const first = q.read();
  await assertRejects(() => q.read(), Error, "concurrent read()");
  q.push(b(7));
  assertEquals(await first, b(7));
});

Deno.test("chunk queue: onConsumed reports bytes as the reader takes them", async () => {
  const consumed: number[] = [];
  const q = new ChunkQueue((n) => consumed.push(n));
  q.push(b(1, 2, 3));
  q.push(b(4));
  assertEquals(consumed, [], "nothing is consumed by pushing");
  await q.read();
  assertEquals(consumed, [3]);
  await q.read();
  assertEquals(consumed, [3, 1]);
  const pending = q.read();
  q.push(b(5, 6));
  await pending;
  assertEquals(consumed, [3, 1, 2], "handing a chunk to a waiting reader counts as consumed");
  q.push(b(7, 8, 9, 10));
  q.fail(new Error("dropped"));
  assertEquals(consumed, [3, 1, 2], "dropped data is not reported as consumed");
});

Deno.test("chunk queue: thousands of chunks keep order and byte accounting through compaction", async () => {
  let consumed = 0;
  const q = new ChunkQueue((n) => consumed += n);
  const size = (i: number) => (i % 7) + 2;
  const chunk = (i: number) => {
    const c = new Uint8Array(size(i));
    c[0] = i & 0xff;
    c[1] = (i >> 8) & 0xff;
    return c;
  };
  let pushed = 0;
  let pushedBytes = 0;
  const push = (n: number) => {
    for (let k = 0; k < n; k++) {
      const c = chunk(pushed++);
      pushedBytes += c.length;
      q.push(c);
    }
  };
  let read = 0;
  const readN = async (n: number) => {
    for (let k = 0; k < n; k++) {
      const c = await q.read();
      assert(c !== null);
      const i = read++;
      assertEquals(c.length, size(i), `chunk ${i} length`);
      assertEquals(c[0], i & 0xff, `chunk ${i} first byte`);
      assertEquals(c[1], (i >> 8) & 0xff, `chunk ${i} second byte`);
    }
  };
  push(2_500);
  await readN(1_500); // crosses the 1024-chunk compaction threshold with data left
  assertEquals(q.bytes, pushedBytes - consumed);
  push(3_000);
  await readN(2_000);
  assertEquals(q.bytes, pushedBytes - consumed);
  push(10);
  await readN(pushed - read);
  assertEquals(read, 5_510);
  assertEquals(q.bytes, 0);
  assertEquals(consumed, pushedBytes);
  q.end();
  assertEquals(await q.read(), null);
  assert(q.drained);
});

Deno.test("stream errors are typed MaculaErrors with stable codes", () => {
  const r = new StreamResetError();
  assert(r instanceof MaculaError);
  assertEquals(r.code, "E_STREAM_RESET");
  assertEquals(r.name, "StreamResetError");
  assertEquals(r.message, "stream was reset");
  const c = new StreamClosedError();
  assertEquals(c.code, "E_STREAM_CLOSED");
  assertEquals(c.message, "stream is closed for writing");
});
