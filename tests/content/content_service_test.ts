/**
 * The content service on real nodes: publish on one node, fetch on another
 * that is not connected to it (providers found through the DHT), the
 * events, shared downloads, byte ranges, pins and removal, the
 * authorization hook, and a node with an on-disk store publishing a file.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, loopbackNode, MemoryNetwork, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { ContentNotFoundError, InvalidContentNameError, InvalidMcidError } from "../../src/content/errors.ts";
import { Mcid } from "../../src/content/mcid.ts";
import type { Operation } from "../../src/node/authorize.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 255;
  }
  return out;
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function stopAll(nodes: Node[]) {
  await Promise.all(nodes.map((n) => n.stop()));
}

Deno.test({
  name: "content: published on one end of a chain, fetched verified on the other; the fetcher then provides it",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 4, "chain");
    const [a, , , d] = nodes;
    try {
      const data = pattern(300_000);
      const provided: string[] = [];
      a.content.on("content:provided", (m) => provided.push(m.toString()));
      const mcid = await a.content.publish(data);
      assertEquals(mcid.size, data.length);
      await until(() => provided.includes(mcid.toString()), 3000, "announce");
      const received: string[] = [];
      d.content.on("content:received", (m) => received.push(m.toString()));
      const got = await bytesOf(d.content.fetch(mcid));
      assertEquals(got, data);
      await until(() => received.includes(mcid.toString()), 2000, "content:received");
      assert(d.content.has(mcid));
      assertEquals(d.content.get(mcid)?.complete, true);
      // Fetched content is provided in turn: a new node finds d as well as a.
      const key = (await import("../../src/content/discovery.ts")).contentKey(d.realms[0], mcid);
      await until(async () => (await nodes[1].dht.findProviders(d.realms[0], key)).length >= 2, 3000, "two providers");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "content: unknown content is ContentNotFoundError (stream and download); a bad id is InvalidMcidError",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain");
    try {
      const missing = new Mcid("blake3", 1000, new Uint8Array(32).fill(7));
      await assertRejects(() => bytesOf(nodes[1].content.fetch(missing)), ContentNotFoundError);
      await assertRejects(() => nodes[1].content.download(missing.toString()), ContentNotFoundError);
      await assertRejects(() => bytesOf(nodes[1].content.fetch("not-an-mcid")), InvalidMcidError);
      assertEquals(nodes[1].content.transfers(), []);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "content: concurrent fetches share one download; byte ranges stream the right slice",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain");
    const [a, b] = nodes;
    try {
      const data = pattern(200_000, 3);
      const mcid = await a.content.publish(data, { codec: "sha256" });
      assertEquals(mcid.codec, "sha256");
      const first = bytesOf(b.content.fetch(mcid));
      const second = bytesOf(b.content.fetch(mcid.toString(), { start: 20_000, end: 50_001 }));
      assert(b.content.transfers().length <= 1, "one download for both fetches");
      assertEquals(await first, data);
      assertEquals(await second, data.subarray(20_000, 50_001));
      assertEquals(await bytesOf(b.content.fetch(mcid, { start: 199_999 })), data.subarray(199_999));
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "content: pin, unpin, list and remove; removed content is fetched again from the provider",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain");
    const [a, b] = nodes;
    try {
      const mcid = await a.content.publish(pattern(40_000, 5), { pin: true });
      assertEquals(a.content.get(mcid)?.pinned, true);
      assert(await a.content.unpin(mcid));
      assertEquals(a.content.get(mcid)?.pinned, false);
      assert(await a.content.pin(mcid.toString()));
      await b.content.download(mcid);
      assertEquals(b.content.list().map((e) => e.mcid.toString()), [mcid.toString()]);
      assert(await b.content.remove(mcid));
      assertEquals(b.content.has(mcid), false);
      assertEquals(await b.content.remove(mcid), false);
      assertEquals(await bytesOf(b.content.fetch(mcid)), pattern(40_000, 5));
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "content: the node-wide authorization hook decides each content request (kind content, name = mcid)",
  ...opts,
  async fn() {
    const asked: Operation[] = [];
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain", (i) =>
      i === 0
        ? {
          authorize: (_subject, op) => {
            if (op.kind !== "content") return true;
            asked.push(op);
            return false;
          },
        }
        : {});
    const [a, b] = nodes;
    try {
      const mcid = await a.content.publish(pattern(10_000, 9));
      await assertRejects(() => b.content.download(mcid), ContentNotFoundError);
      assert(asked.some((op) => op.name === mcid.toString()), "the hook was asked about this content");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "content: a name it was published under is asked after the MCID; bad names are refused; remove drops names",
  ...opts,
  async fn() {
    const asked: string[] = [];
    const nodes = await joinedNodes(new MemoryNetwork(), 2, "chain", (i) =>
      i === 0
        ? {
          authorize: (_subject, op) => {
            if (op.kind !== "content") return true;
            asked.push(op.name);
            return op.name === "io.acme.plant3.firmware";
          },
        }
        : {});
    const [a, b] = nodes;
    try {
      const named = await a.content.publish(pattern(10_000, 3), { name: "io.acme.plant3.firmware" });
      assertEquals(a.content.names(named), ["io.acme.plant3.firmware"]);
      assertEquals(await bytesOf(b.content.fetch(named)), pattern(10_000, 3));
      assertEquals(asked.slice(0, 2), [named.toString(), "io.acme.plant3.firmware"]);
      const unnamed = await a.content.publish(pattern(10_000, 4));
      await assertRejects(() => b.content.download(unnamed), ContentNotFoundError);
      for (const bad of ["", "plain", "io..acme", "io.acme.plant 3", "x.".repeat(200) + "x", "io.acme.*"]) {
        await assertRejects(
          () => a.content.publish(pattern(10, 1), { name: bad }),
          InvalidContentNameError,
          "content name",
        );
      }
      assert(await a.content.remove(named));
      assertEquals(a.content.names(named), []);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "content: a node with a data dir stores on disk, publishes a file by path, and serves it over TCP",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-content-" });
    const data = pattern(70_000, 11);
    await Deno.writeFile(`${dir}/input.bin`, data);
    const a = await loopbackNode({ dataDir: `${dir}/a`, transports: ["tcp"] });
    const b = await loopbackNode({ dataDir: `${dir}/b`, transports: ["tcp"], seeds: a.addrs });
    try {
      const mcid = await a.content.publish(`${dir}/input.bin`);
      await until(() => b.connection(a.id) !== undefined, 3000, "seed");
      assertEquals(await bytesOf(b.content.fetch(mcid)), data);
      await b.stop();
      const again = await loopbackNode({ dataDir: `${dir}/b`, transports: ["tcp"] });
      try {
        assert(again.content.has(mcid), "the store survives a restart");
        assertEquals(await bytesOf(again.content.fetch(mcid)), data);
      } finally {
        await again.stop();
      }
    } finally {
      await a.stop();
      await b.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
