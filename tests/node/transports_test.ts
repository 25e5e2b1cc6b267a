import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork, until } from "../helpers/nodes.ts";
import { createTransports } from "../../src/node/transports.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";

const platform = currentPlatform();

Deno.test("transports: built-in names become transports; objects are taken as they are", () => {
  const memory = new MemoryTransport(new MemoryNetwork(), "m");
  const ts = createTransports({ transports: ["tcp", memory], port: 0 }, platform);
  assertEquals(ts.map((t) => t.kind), ["tcp", "memory"]);
  assert(ts[1] === memory);
  // `memory` is a shorthand for a MemoryTransport
  const short = createTransports({ memory: { network: new MemoryNetwork(), name: "x" } }, platform);
  assertEquals(short.map((t) => t.kind), ["memory"]);
  assert(short[0].canDial({ type: "direct", kind: "memory", host: "x", port: 0 }));
  assert(!short[0].canDial({ type: "direct", kind: "tcp", host: "x", port: 1 }));
});

Deno.test("transports: unknown names, bad kinds and duplicate kinds are TypeErrors", () => {
  assertThrows(() => createTransports({ transports: ["udp" as "tcp"] }, platform), TypeError, "unknown transport");
  const badName = { ...new MemoryTransport(new MemoryNetwork(), "m"), kind: "Bad Name" } as unknown as Transport;
  assertThrows(() => createTransports({ transports: [badName] }, platform), TypeError, "invalid transport name");
  const network = new MemoryNetwork();
  assertThrows(
    () =>
      createTransports({ transports: [new MemoryTransport(network, "a")], memory: { network, name: "b" } }, platform),
    TypeError,
    "two transports named memory",
  );
});

Deno.test({
  name: "transports: a node started with a Transport object listens and dials through it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const network = new MemoryNetwork();
    const start = (name: string) =>
      Node.start({
        keyPair: KeyPair.generate(),
        logger: Logger.silent(),
        transports: [new MemoryTransport(network, name)],
      });
    await using a = await start("obj-a");
    await using b = await start("obj-b");
    assertEquals(a.addrs, [`memory://obj-a/${a.id.did}`]);
    const conn = await a.connect(b.addrs[0]);
    assert(conn.remoteId.equals(b.id));
    assertEquals(conn.route, "direct");
    await until(() => b.peers().length === 1, 2000, "b sees a");
    // a second node cannot take a started transport's name
    await assertRejects(() => start("obj-a"));
  },
});
