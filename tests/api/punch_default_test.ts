/**
 * `Node.start` runs hole punching by default, over the QUIC transport it
 * builds (with UDP for pre-opening), fed by the reachability service; and
 * `punch: false` leaves it out.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { loopbackNode } from "../helpers/nodes.ts";
import { PUNCH } from "../../src/nat/punch.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { currentPlatform } from "../../src/platform/current.ts";

Deno.test("Node.start: the punch service runs by default with QUIC, and its status section says so", async () => {
  await using node = await loopbackNode();
  const punch = node.service(PUNCH);
  assert(punch, "punch service running");
  const status = node.status() as unknown as Record<string, { enabled?: boolean; self?: { mapping?: string } }>;
  assertEquals(status.punch.enabled, true);
  assertEquals(status.punch.self?.mapping, "unknown");
  assert(node.protocols().includes("/macula/punch/1"));
});

Deno.test("Node.start: punch: false leaves the service out; a QuicTransport given as an object is the one punched with", async () => {
  await using off = await loopbackNode({ punch: false });
  assertEquals(off.service(PUNCH), undefined);
  const platform = currentPlatform();
  const quic = new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0, udp: platform.udp });
  await using mine = await loopbackNode({ transports: [quic] });
  const port = await quic.pickPunchPort();
  assert(port > 0);
  assertEquals((mine.status() as unknown as Record<string, { enabled?: boolean }>).punch.enabled, true);
});
