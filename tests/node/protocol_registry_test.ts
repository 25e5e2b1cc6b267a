import type { Operation } from "../../src/node/authorize.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { ProtocolRegistry } from "../../src/node/protocol-registry.ts";
import { MemoryNetwork, MemoryTransport } from "../../src/transport/memory.ts";
import { ProtocolRefusedError } from "../../src/transport/errors.ts";
import type { Connection, Stream } from "../../src/transport/connection.ts";
import type { NodeId } from "../../src/identity/node-id.ts";
import { utf8 } from "../../src/util/bytes.ts";
import { echo, readAll, testContext } from "../helpers/transport_context.ts";

type Refusal = [string, string, "unknown" | "unauthorized"];

/**
 * Two nodes "a" and "b" on a memory network; b's inbound gate is a real
 * ProtocolRegistry. Returns a's outbound connection and b's inbound one.
 */
async function setup() {
  const refused: Refusal[] = [];
  const registry = new ProtocolRegistry({ onRefused: (p, peer, why) => refused.push([p, peer.did, why]) });
  const network = new MemoryNetwork();
  const a = testContext();
  const b = testContext();
  b.gate = registry.gate;
  const ta = new MemoryTransport(network, "a");
  const tb = new MemoryTransport(network, "b");
  await ta.start(a);
  await tb.start(b);
  const conn = await ta.dial({ type: "direct", kind: "memory", host: "b", port: 0 }, b.localId);
  const inbound = await b.nextInbound();
  const close = async () => {
    await ta.close();
    await tb.close();
  };
  return { registry, refused, a, b, conn, inbound, close };
}

Deno.test("protocol registry: unknown protocols are refused (null) and reported as unknown", async () => {
  const { registry, refused, a, inbound, close } = await setup();
  assertEquals(await registry.gate("/nope/1", inbound), null);
  assertEquals(refused, [["/nope/1", a.localId.did, "unknown"]]);
  await close();
});

Deno.test("protocol registry: end to end, an unregistered protocol gives the opener ProtocolRefusedError", async () => {
  const { refused, a, conn, close } = await setup();
  await assertRejects(() => conn.openStream("/missing/1"), ProtocolRefusedError, "/missing/1");
  assertEquals(refused, [["/missing/1", a.localId.did, "unknown"]]);
  await close();
});

Deno.test("protocol registry: a registered protocol's handler receives the stream", async () => {
  const { registry, refused, conn, close } = await setup();
  const seen: Array<[string, string]> = [];
  registry.handle("/echo/1", async (stream) => {
    seen.push([stream.protocol, stream.remoteId.did]);
    await echo(stream);
  });
  assertEquals(registry.protocols(), ["/echo/1"]);
  const s = await conn.openStream("/echo/1");
  await s.write(utf8("ping"));
  await s.closeWrite();
  assertEquals(new TextDecoder().decode(await readAll(s)), "ping");
  assertEquals(seen, [["/echo/1", conn.localId.did]]);
  assertEquals(refused, []);
  await close();
});

Deno.test("protocol registry: the gate's handler calls the registered handler with the stream", async () => {
  const { registry, inbound, close } = await setup();
  const got: unknown[] = [];
  registry.handle("/direct/1", (stream) => {
    got.push(stream);
  });
  const handler = await registry.gate("/direct/1", inbound);
  assert(handler !== null);
  const fake = { protocol: "/direct/1" } as unknown as Stream;
  await handler(fake);
  assertEquals(got.length, 1);
  assert(got[0] === fake);
  await close();
});

Deno.test("protocol registry: authorize returning false refuses with 'unauthorized'", async () => {
  const { registry, refused, a, conn, inbound, close } = await setup();
  const asked: Array<[string, string]> = [];
  let handled = 0;
  registry.handle("/secret/1", () => {
    handled++;
  }, {
    authorize: (peer: NodeId, op: Operation) => {
      assertEquals(op.kind, "stream");
      asked.push([peer.did, op.name]);
      return false;
    },
  });
  assertEquals(await registry.gate("/secret/1", inbound), null);
  assertEquals(asked, [[a.localId.did, "/secret/1"]]);
  assertEquals(refused, [["/secret/1", a.localId.did, "unauthorized"]]);
  await assertRejects(() => conn.openStream("/secret/1"), ProtocolRefusedError);
  assertEquals(refused.length, 2);
  assertEquals(refused[1][2], "unauthorized");
  assertEquals(handled, 0);
  await close();
});

Deno.test("protocol registry: authorize is asked per peer and may admit some peers only", async () => {
  const { registry, refused, a, conn, inbound, close } = await setup();
  let allowed = "";
  registry.handle("/vip/1", echo, { authorize: (peer) => peer.did === allowed });
  assertEquals(await registry.gate("/vip/1", inbound), null);
  allowed = a.localId.did;
  assert((await registry.gate("/vip/1", inbound)) !== null);
  const s = await conn.openStream("/vip/1");
  await s.closeWrite();
  assertEquals(await readAll(s), new Uint8Array(0));
  assertEquals(refused.map((r) => r[2]), ["unauthorized"]);
  await close();
});

Deno.test("protocol registry: async authorize is awaited", async () => {
  const { registry, refused, conn, inbound, close } = await setup();
  registry.handle("/async-yes/1", echo, {
    authorize: async () => {
      await new Promise((r) => setTimeout(r, 5));
      return true;
    },
  });
  registry.handle("/async-no/1", echo, {
    authorize: async () => {
      await new Promise((r) => setTimeout(r, 5));
      return false;
    },
  });
  assert((await registry.gate("/async-yes/1", inbound)) !== null);
  assertEquals(await registry.gate("/async-no/1", inbound), null);
  assertEquals(refused.map((r) => [r[0], r[2]]), [["/async-no/1", "unauthorized"]]);
  const s = await conn.openStream("/async-yes/1");
  await s.closeWrite();
  await readAll(s);
  await assertRejects(() => conn.openStream("/async-no/1"), ProtocolRefusedError);
  await close();
});

Deno.test("protocol registry: handling a protocol twice throws; the unregister function frees it", async () => {
  const { registry, refused, inbound, close } = await setup();
  const off = registry.handle("/dup/1", () => {});
  assertThrows(() => registry.handle("/dup/1", () => {}), Error, "already handled");
  assertEquals(registry.protocols(), ["/dup/1"]);
  off();
  assertEquals(registry.protocols(), []);
  assertEquals(await registry.gate("/dup/1", inbound), null);
  assertEquals(refused.at(-1)?.[2], "unknown");
  // after unregistering it may be registered again
  const off2 = registry.handle("/dup/1", () => {});
  assertEquals(registry.protocols(), ["/dup/1"]);
  // a stale unregister function must not remove the new registration
  off();
  assertEquals(registry.protocols(), ["/dup/1"]);
  off2();
  assertEquals(registry.protocols(), []);
  await close();
});

Deno.test("protocol registry: invalid protocol names throw TypeError", () => {
  const registry = new ProtocolRegistry();
  const bad = ["", "echo", "/", "/has space", "/tab\t", "/" + "x".repeat(128), "/ünï", 42, null];
  for (const name of bad) {
    assertThrows(() => registry.handle(name as string, () => {}), TypeError, "invalid protocol name", String(name));
  }
  assertEquals(registry.protocols(), []);
  // the longest valid name is accepted
  registry.handle("/" + "x".repeat(127), () => {});
  assertEquals(registry.protocols().length, 1);
});

Deno.test("protocol registry: works without an onRefused hook", async () => {
  const registry = new ProtocolRegistry();
  const { inbound, close } = await setup();
  registry.handle("/deny/1", () => {}, { authorize: () => false });
  assertEquals(await registry.gate("/unknown/1", inbound as Connection), null);
  assertEquals(await registry.gate("/deny/1", inbound), null);
  await close();
});
