/**
 * The provider over real in-memory node streams, spoken to by hand: every
 * request gets its answer, blocks cover exactly what was asked, cancel,
 * busy, denied, partial entries, the upload rate, and bad input.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  CONTENT_PROTOCOL,
  type ContentAnswer,
  type ContentRequest,
  decodeAnswer,
  encodeRequest,
  MAX_CONTENT_FRAME,
} from "../../src/content/messages.ts";
import type { Mcid } from "../../src/content/mcid.ts";
import { MemoryContentStore } from "../../src/content/memory-store.ts";
import { RangeSet } from "../../src/content/ranges.ts";
import { GROUP_SIZE, groupCount, hashBytes } from "../../src/content/tree.ts";
import type { Stream } from "../../src/transport/connection.ts";
import { BufferedReader, writeFrame } from "../../src/wire/frame.ts";
import { randomBytes, Swarm } from "./helpers/swarm.ts";

class Client {
  #reader: BufferedReader;
  constructor(readonly stream: Stream, readonly groups: number) {
    this.#reader = new BufferedReader(stream);
  }
  static async open(swarm: Swarm, i: number, mcid: Mcid): Promise<Client> {
    const conn = await swarm.fetcher.connect(swarm.providers[i].node.addrs[0]);
    return new Client(await conn.openStream(CONTENT_PROTOCOL), groupCount(mcid.size));
  }
  send(req: ContentRequest): Promise<void> {
    return writeFrame(this.stream, encodeRequest(req), MAX_CONTENT_FRAME);
  }
  async next(): Promise<ContentAnswer | null> {
    const frame = await this.#reader.readFrame(MAX_CONTENT_FRAME);
    return frame && decodeAnswer(frame, this.groups);
  }
  /** Read answers to `id` until every group of `ranges` was sent or refused. */
  async collect(id: number, ranges: RangeSet): Promise<{ sent: RangeSet; refused: RangeSet; reasons: string[] }> {
    const sent = new RangeSet(), refused = new RangeSet(), reasons: string[] = [];
    const size = this.groups;
    while (sent.count + refused.count < ranges.count) {
      const a = await this.next();
      assert(a, "stream ended early");
      assertEquals(a.id, id);
      if (a.t === "block") {
        const n = Math.max(1, Math.ceil(a.data.length / GROUP_SIZE));
        assert(n <= 16 && a.index + n <= size);
        for (let g = a.index; g < a.index + n; g++) {
          assert(ranges.has(g) && !sent.has(g) && !refused.has(g), `group ${g} unasked or twice`);
        }
        sent.add(a.index, a.index + n);
      } else {
        assertEquals(a.t, "dont-have");
        if (a.t !== "dont-have") break;
        refused.union(a.ranges ?? ranges.clone().subtract(sent));
        reasons.push(a.reason ?? "");
      }
    }
    return { sent, refused, reasons };
  }
}

const MiB = 1024 * 1024;

Deno.test("provider: want-have, want-tree and want-block are answered from the store", async () => {
  const swarm = await Swarm.start(1);
  try {
    const data = randomBytes(3 * MiB + 100);
    const mcid = await swarm.publish(data);
    const { leaves } = await hashBytes(data);
    const groups = groupCount(data.length);
    const c = await Client.open(swarm, 0, mcid);
    await c.send({ t: "want-have", id: 1, mcid });
    assertEquals((await c.next()) as unknown, { t: "have", id: 1, ranges: RangeSet.full(groups) });
    await c.send({ t: "want-have", id: 2, mcid, ranges: new RangeSet([[3, 9]]) });
    const have = await c.next();
    assert(have?.t === "have" && have.ranges.toArray().join() === "3,9");
    await c.send({ t: "want-tree", id: 3, mcid, from: 10, count: 5000 });
    const tree = await c.next();
    assert(tree?.t === "tree" && tree.from === 10);
    assertEquals(tree.hashes, leaves.slice(10 * 32, groups * 32)); // clipped at the end
    const want = new RangeSet([[0, 40], [100, groups]]);
    await c.send({ t: "want-block", id: 4, mcid, ranges: want });
    const got = await c.collect(4, want);
    assertEquals(got.sent.toArray(), want.toArray());
    await c.stream.closeWrite();
    assertEquals(await c.next(), null, "the provider closes after the fetcher");
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: unknown content → dont-have missing (blocks listed)", async () => {
  const swarm = await Swarm.start(1);
  try {
    const { mcid } = await hashBytes(randomBytes(100_000));
    const c = await Client.open(swarm, 0, mcid);
    await c.send({ t: "want-have", id: 1, mcid });
    assertEquals((await c.next()) as unknown, { t: "dont-have", id: 1, reason: "missing" });
    await c.send({ t: "want-tree", id: 2, mcid, from: 0, count: 1 });
    assertEquals((await c.next()) as unknown, { t: "dont-have", id: 2, reason: "missing" });
    const want = new RangeSet([[1, 4]]);
    await c.send({ t: "want-block", id: 3, mcid, ranges: want });
    const got = await c.collect(3, want);
    assertEquals(got.refused.toArray(), want.toArray());
    assertEquals(got.reasons, ["missing"]);
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: a partial entry serves what it has and lists the rest as missing", async () => {
  const store = new MemoryContentStore();
  const swarm = await Swarm.start(1, () => ({ store }));
  try {
    const data = randomBytes(10 * GROUP_SIZE);
    const { mcid, leaves } = await hashBytes(data);
    const w = await store.writer(mcid);
    await w.setLeaves(leaves);
    for (const i of [2, 3, 7]) await w.writeGroup(i, data.subarray(i * GROUP_SIZE, (i + 1) * GROUP_SIZE));
    await w.flush();
    const c = await Client.open(swarm, 0, mcid);
    await c.send({ t: "want-have", id: 1, mcid });
    const have = await c.next();
    assert(have?.t === "have");
    assertEquals(have.ranges.toArray(), [[2, 4], [7, 8]]);
    const want = RangeSet.full(10);
    await c.send({ t: "want-block", id: 2, mcid, ranges: want });
    const got = await c.collect(2, want);
    assertEquals(got.sent.toArray(), [[2, 4], [7, 8]]);
    assertEquals(got.refused.toArray(), [[0, 2], [4, 7], [8, 10]]);
    await w.close();
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: cancel ends a want-block with a dont-have of exactly what was not sent", async () => {
  const swarm = await Swarm.start(1, () => ({ uploadRate: 256 * 1024 }));
  try {
    const data = randomBytes(2 * MiB);
    const mcid = await swarm.publish(data);
    const c = await Client.open(swarm, 0, mcid);
    const want = RangeSet.full(groupCount(data.length));
    await c.send({ t: "want-block", id: 7, mcid, ranges: want });
    const first = await c.next();
    assert(first?.t === "block");
    await c.send({ t: "cancel", id: 7 });
    const sent = new RangeSet([[first.index, first.index + first.data.length / GROUP_SIZE]]);
    let refused: RangeSet | undefined;
    while (!refused) {
      const a = await c.next();
      assert(a && a.id === 7);
      if (a.t === "block") sent.add(a.index, a.index + a.data.length / GROUP_SIZE);
      else if (a.t === "dont-have") {
        assertEquals(a.reason, "cancelled");
        refused = a.ranges;
      }
    }
    assert(sent.count < want.count / 2, `cancel took effect (${sent.count} groups sent)`);
    assert(sent.intersect(refused!).empty);
    assertEquals(sent.clone().union(refused!).toArray(), want.toArray());
    // Cancelling something unknown or finished is ignored; the session goes on.
    await c.send({ t: "cancel", id: 99 });
    await c.send({ t: "want-have", id: 8, mcid });
    assertEquals((await c.next())?.t, "have");
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: beyond maxUploads sessions, want-blocks get dont-have busy (want-have still answered)", async () => {
  const swarm = await Swarm.start(1, () => ({ maxUploads: 1, uploadRate: 256 * 1024 }));
  try {
    const data = randomBytes(1 * MiB);
    const mcid = await swarm.publish(data);
    const a = await Client.open(swarm, 0, mcid);
    const b = await Client.open(swarm, 0, mcid);
    await a.send({ t: "want-block", id: 1, mcid, ranges: new RangeSet([[0, 64]]) });
    assertEquals((await a.next())?.t, "block");
    assertEquals(swarm.providers[0].provider.activeUploads, 1);
    await b.send({ t: "want-have", id: 1, mcid });
    assertEquals((await b.next())?.t, "have");
    const want = new RangeSet([[0, 4]]);
    await b.send({ t: "want-block", id: 2, mcid, ranges: want });
    const got = await b.collect(2, want);
    assertEquals(got.reasons, ["busy"]);
    a.stream.reset();
    for (let i = 0; i < 50 && swarm.providers[0].provider.activeUploads > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(swarm.providers[0].provider.activeUploads, 0, "the slot is released with the session");
    await b.send({ t: "want-block", id: 3, mcid, ranges: want });
    assertEquals((await b.collect(3, want)).sent.toArray(), want.toArray());
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: authorize → dont-have denied", async () => {
  const swarm = await Swarm.start(1, () => ({ authorize: () => false }));
  try {
    const mcid = await swarm.publish(randomBytes(50_000));
    const c = await Client.open(swarm, 0, mcid);
    await c.send({ t: "want-have", id: 1, mcid });
    assertEquals((await c.next()) as unknown, { t: "dont-have", id: 1, reason: "denied" });
    const want = new RangeSet([[0, 2]]);
    await c.send({ t: "want-block", id: 2, mcid, ranges: want });
    assertEquals((await c.collect(2, want)).reasons, ["denied"]);
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: the upload rate paces blocks; setUploadRate lifts it", async () => {
  const swarm = await Swarm.start(1, () => ({ uploadRate: 512 * 1024 }));
  try {
    const data = randomBytes(1 * MiB);
    const mcid = await swarm.publish(data);
    const c = await Client.open(swarm, 0, mcid);
    const want = RangeSet.full(groupCount(data.length));
    let t0 = performance.now();
    await c.send({ t: "want-block", id: 1, mcid, ranges: want });
    await c.collect(1, want);
    const slow = performance.now() - t0;
    // The bucket starts with a second's worth (512 KiB); the other 512 KiB take about a second.
    assert(slow > 700, `paced: ${slow} ms`);
    swarm.providers[0].provider.setUploadRate(0);
    t0 = performance.now();
    await c.send({ t: "want-block", id: 2, mcid, ranges: want });
    await c.collect(2, want);
    const fast = performance.now() - t0;
    assert(fast < slow / 2, `unlimited: ${fast} ms`);
  } finally {
    await swarm.stop();
  }
});

Deno.test("provider: bad input resets that session only; the node keeps serving", async () => {
  const swarm = await Swarm.start(1);
  try {
    const mcid = await swarm.publish(randomBytes(50_000));
    const bad = await Client.open(swarm, 0, mcid);
    await writeFrame(bad.stream, Uint8Array.of(0xa1, 0x61, 0x74, 0x01)); // {t: 1}
    let failed = false;
    try {
      await bad.next();
    } catch {
      failed = true;
    }
    assert(failed, "the session was reset");
    const good = await Client.open(swarm, 0, mcid);
    await good.send({ t: "want-have", id: 1, mcid });
    assertEquals((await good.next())?.t, "have");
  } finally {
    await swarm.stop();
  }
});
