/**
 * Test helpers for rings: a gateway node (serves as a relay, in memory) and
 * ring members that reach the mesh only through it — their in-memory link
 * announces no address, so the only way members know to reach each other
 * is the relayed address of their reservation at the gateway (as browsers
 * behind a gateway). Signaling then runs through the gateway's circuits;
 * ring messages must not.
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import type { MemoryNetwork } from "../../src/transport/memory.ts";
import { type RingsOptions, RingsService } from "../../src/rings/rings-service.ts";
import { WebRtcService } from "../../src/webrtc/webrtc-service.ts";
import type { WebRtcTransport } from "../../src/transport/webrtc.ts";
import { Unannounced } from "../relay/relay_helpers.ts";
import { until } from "../helpers/nodes.ts";
import { rtcTransport } from "../helpers/webrtc.ts";

let counter = 0;

/** The gateway: a relay for everyone, on `network`. */
export function gatewayNode(network: MemoryNetwork): Promise<Node> {
  return Node.start({
    keyPair: KeyPair.generate(),
    memory: { network, name: `gw${++counter}` },
    logger: Logger.silent(),
    nat: false,
    punch: false,
    relay: { serve: true, realms: "*" },
  });
}

/** A ring member reaching the mesh through `gateway` only. */
export async function memberNode(
  network: MemoryNetwork,
  gateway: Node,
  rings: RingsOptions = { presenceInterval: 300 },
): Promise<{ node: Node; rtc: WebRtcTransport }> {
  const rtc = await rtcTransport();
  const node = await Node.start({
    keyPair: KeyPair.generate(),
    logger: Logger.silent(),
    transports: [new Unannounced(new MemoryTransport(network, `m${++counter}`)), rtc],
    nat: false,
    punch: false,
    relay: { via: [gateway.addrs[0]], autoReserve: 0 },
    services: [new WebRtcService(rtc), new RingsService(rings)],
  });
  await until(() => node.addrs.some((a) => a.includes("/circuit/")), 5000, "a reservation at the gateway");
  return { node, rtc };
}
