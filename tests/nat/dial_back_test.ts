/** Dial-back over real loopback QUIC/TCP nodes: fresh connections, abuse rules, typed refusals. */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { loopbackNode, until } from "../helpers/nodes.ts";
import { requestDialback } from "../../src/nat/dial-back.ts";
import { DialbackRefusedError } from "../../src/nat/errors.ts";
import { REACHABILITY } from "../../src/nat/reachability.ts";
import { parseAddress } from "../../src/transport/address.ts";

function port(node: { addrs: string[] }, kind: "quic" | "tcp"): number {
  const a = parseAddress(node.addrs.find((x) => x.startsWith(`${kind}://`))!);
  return a.type === "direct" ? a.port : 0;
}

Deno.test({
  name: "dial-back: the peer dials a fresh connection at our address; the open one stays",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const nat = { includePrivate: true, settle: 60_000 };
    const a = await loopbackNode({ nat });
    const b = await loopbackNode({ nat });
    try {
      const conn = await b.connect(a.addrs[0]);
      const opened = b.metrics.registry.render();
      const results = await requestDialback(conn, [
        `quic://127.0.0.1:${port(b, "quic")}`,
        `tcp://127.0.0.1:${port(b, "tcp")}`,
      ]);
      assertEquals(results.map((r) => r.ok), [true, true]);
      // Where nothing listens: a failure with the dial's code.
      const closed = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const free = (closed.addr as Deno.NetAddr).port;
      closed.close();
      const [miss] = await requestDialback(await b.connect(a.addrs[0]), [`quic://127.0.0.1:${free}`]);
      assertEquals(miss.ok, false);
      assert(miss.error?.startsWith("E_"), miss.error);
      await new Promise((r) => setTimeout(r, 300));
      assert(!conn.isClosed, "the open connection must stay");
      assertEquals(b.connection(a.id), conn);
      assertEquals(b.peers().length, 1);
      assertEquals(a.peers().length, 1);
      assert(opened.length > 0);
    } finally {
      await b.stop();
      await a.stop();
    }
  },
});

Deno.test({
  name: "dial-back: addresses off the requester's IP and floods are refused with a reason",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const a = await loopbackNode({ nat: { includePrivate: true, settle: 60_000, dialback: { perPeerPerMinute: 2 } } });
    const b = await loopbackNode({ nat: false });
    try {
      const conn = await b.connect(a.addrs[0]);
      const refusal = await assertRejects(
        () => requestDialback(conn, ["quic://10.9.9.9:9443"]),
        DialbackRefusedError,
      ) as DialbackRefusedError;
      assertEquals(refusal.reason, "address");
      const mine = `quic://127.0.0.1:${port(b, "quic")}`;
      await requestDialback(conn, [mine]);
      await requestDialback(conn, [mine]);
      const rate = await assertRejects(
        () => requestDialback(conn, [mine]),
        DialbackRefusedError,
      ) as DialbackRefusedError;
      assertEquals(rate.reason, "rate");
      const status = a.service(REACHABILITY)!.status() as { dialbacks: { served: number; refused: { rate: number } } };
      assertEquals(status.dialbacks.served, 2);
      assertEquals(status.dialbacks.refused.rate, 1);
      assert(!conn.isClosed, "refusals do not cost the connection");
    } finally {
      await b.stop();
      await a.stop();
    }
  },
});

Deno.test({
  name: "reachability: a node whose peer can dial it back is public and advertises the confirmed address",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const a = await loopbackNode({ nat: { includePrivate: true, settle: 50 } });
    const b = await loopbackNode({ nat: { includePrivate: true, settle: 50 } });
    try {
      const natB = b.service(REACHABILITY)!;
      const changes: string[] = [];
      natB.onChange((s) => changes.push(s.reachability));
      assertEquals(natB.reachability(), "unknown");
      await b.connect(a.addrs[0]);
      await until(() => natB.reachability() === "public", 10_000, "b public");
      const quic = `quic://127.0.0.1:${port(b, "quic")}`;
      assert(natB.confirmed().includes(quic), natB.confirmed().join(" "));
      assert(b.record().addrs.includes(quic));
      assertEquals(natB.mapping().observed.includes(quic), true);
      assert(changes.includes("public"));
      const section = (b.status() as unknown as { nat: { reachability: string; nat: { mapping: string } } }).nat;
      assertEquals(section.reachability, "public");
      assertEquals(section.nat.mapping, "unknown"); // one peer endpoint only
      await until(() => a.service(REACHABILITY)!.reachability() === "public", 10_000, "a public");
    } finally {
      await b.stop();
      await a.stop();
    }
  },
});
