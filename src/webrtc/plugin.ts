/**
 * Builds the WebRTC plug-ins of a node: the `webrtc` transport, its
 * signaling service and (unless `rings: false`) the rings service. Give
 * `transport` to `Node.start({ transports })` and `services` to
 * `Node.start({ services })`. The `RTCPeerConnection` class is the
 * caller's: a browser's global, or node-datachannel's polyfill on a node
 * (`loadNodeWebRtc` in `platform/webrtc.ts`).
 *
 * @module
 */
import type { NodeService } from "../node/service.ts";
import { type RingsOptions, RingsService } from "../rings/rings-service.ts";
import { type WebRtcOptions, WebRtcTransport } from "../transport/webrtc.ts";
import { WebRtcService } from "./webrtc-service.ts";

/** Options of `webrtcPlugins`: the link's, plus the rings'. */
export interface WebRtcPluginOptions extends WebRtcOptions {
  /** Tunables of rings, or `false` for none. */
  rings?: RingsOptions | false;
}

/** What `webrtcPlugins` builds. */
export interface WebRtcPlugins {
  /** The WebRTC transport. */
  transport: WebRtcTransport;
  /** The signaling service, and the rings service. */
  services: NodeService[];
}

/**
 * The WebRTC plug-ins for `options`.
 *
 * @example
 * ```ts
 * import { webrtcPlugins } from "./plugin.ts";
 * import { Node } from "../../mod.ts";
 * declare const RTCPeerConnection: import("../transport/webrtc-channel.ts").RtcPeerConnectionClass;
 * const rtc = webrtcPlugins({ RTCPeerConnection });
 * await using node = await Node.start({ port: 0, transports: ["tcp", rtc.transport], services: rtc.services });
 * const ring = node.rings.join("standup");
 * ```
 */
export function webrtcPlugins(options: WebRtcPluginOptions): WebRtcPlugins {
  const { rings, ...link } = options;
  const transport = new WebRtcTransport(link);
  const services: NodeService[] = [new WebRtcService(transport)];
  if (rings !== false) services.push(new RingsService(rings));
  return { transport, services };
}
