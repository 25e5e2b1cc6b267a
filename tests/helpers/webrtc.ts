/**
 * Test helper: node-datachannel for WebRTC tests (needs `--allow-ffi` and a
 * prebuild for this machine), and nodes with the WebRTC link and its
 * service. `rtcMissing` is the reason to ignore a test, or `undefined`.
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node, type NodeOptions } from "../../src/api/node.ts";
import { loadNodeWebRtc, type NodeWebRtc } from "../../src/platform/webrtc.ts";
import type { RtcPeerConnectionClass } from "../../src/transport/webrtc-channel.ts";
import { WebRtcTransport } from "../../src/transport/webrtc.ts";
import { WebRtcService } from "../../src/webrtc/webrtc-service.ts";
import type { MemoryNetwork } from "../../src/transport/memory.ts";
import type { NodeService } from "../../src/node/service.ts";

let loaded: NodeWebRtc | undefined;
let reason: string | undefined;
try {
  // Held for the whole file (each node takes its own reference too), so
  // node-datachannel is set up once and cleaned up once, when the file ends.
  loaded = await loadNodeWebRtc();
  globalThis.addEventListener("unload", () => loaded?.release()); // if `releaseRtc` was not reached
} catch (error) {
  reason = `node-datachannel cannot load here: ${(error as Error).message}`;
  console.log(`WebRTC tests ignored: ${reason}`);
}

/**
 * The last case of a file: release node-datachannel (its threads stop) and
 * let late callbacks run while the isolate is still alive — a cleanup at
 * teardown can crash the process.
 */
export async function releaseRtc(): Promise<void> {
  loaded?.release();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** Why WebRTC tests are ignored, or undefined when node-datachannel loads. */
export const rtcMissing: string | undefined = reason;

/** A WebRTC link holding a node-datachannel reference (released when the link closes). */
export async function rtcTransport(options: { timeout?: number; maxPending?: number } = {}): Promise<WebRtcTransport> {
  const rtc = await loadNodeWebRtc();
  return new WebRtcTransport({
    RTCPeerConnection: rtc.RTCPeerConnection as RtcPeerConnectionClass,
    onClose: rtc.release,
    ...options,
  });
}

let counter = 0;

/** A node on `network` with the WebRTC link and its service (plus `extra` services). */
export async function rtcNode(
  network: MemoryNetwork,
  options: Partial<NodeOptions> = {},
  extra: (transport: WebRtcTransport) => NodeService[] = () => [],
): Promise<{ node: Node; rtc: WebRtcTransport; service: WebRtcService }> {
  const rtc = await rtcTransport();
  const service = new WebRtcService(rtc);
  const node = await Node.start({
    keyPair: KeyPair.generate(),
    memory: { network, name: `rtc${++counter}` },
    logger: Logger.silent(),
    transports: [rtc],
    nat: false,
    punch: false,
    ...options,
    services: [service, ...extra(rtc), ...(options.services ?? [])],
  });
  return { node, rtc, service };
}
