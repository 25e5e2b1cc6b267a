/**
 * A browser page as a mesh peer: `connect()` loads (or makes) the page's
 * Ed25519 identity, asks the gateway node for its WebSocket address, and
 * starts the real node core (`Node`, with pub/sub, RPC, content, auth and
 * the DHT as a client) over the WebSocket transport to that gateway, which it
 * keeps as a seed and reserves at as a relay (so other nodes reach the page
 * through the gateway). The page then `publish`es, `subscribe`s, `call`s,
 * `advertise`s and fetches content like any node. `peer.stop()` (or the page
 * going away: `pagehide`) closes the connection, so the gateway sees
 * `peer:down` at once.
 *
 * @module
 */
import { Node, type NodeOptions } from "../api/node.ts";
import { DHT_CLIENT_ROLE } from "../dht/dht.ts";
import { Logger, type LogLevel } from "../log/logger.ts";
import { currentPlatform } from "../platform/current.ts";
import type { RelayOptions } from "../relay/plugin.ts";
import { WebSocketTransport } from "../transport/websocket.ts";
import { nativeRtcPeerConnection } from "../transport/webrtc-channel.ts";
import { webrtcPlugins } from "../webrtc/plugin.ts";
import { fetchGateway, type GatewayInfo } from "./gateway.ts";
import { type BrowserIdentity, type BrowserIdentityOptions, loadBrowserIdentity } from "./identity-store.ts";

/** Options of `connect`. */
export interface ConnectOptions {
  /**
   * The gateway node: its status server's URL (`http://host:port`, where it
   * serves `/macula.js`). Default: the origin that served this module.
   */
  gateway?: string | URL;
  /** Where the identity comes from (IndexedDB database and key, `ephemeral`, `seed`). */
  identity?: BrowserIdentityOptions;
  /** Realms to join. Default: the gateway's primary realm. */
  realms?: string[];
  /** Lowest log level written to the browser console. Default `"warn"`. */
  logLevel?: LogLevel;
  /** WebRTC and rings (the browser's own RTCPeerConnection). Default true where the browser has one. */
  webrtc?: boolean;
  /** Stop the peer when the page goes away (`pagehide`). Default true. */
  stopOnPagehide?: boolean;
  /**
   * Further options of the node (tunables of pub/sub, RPC, DHT, content,
   * auth). Transports, seeds, identity and relays are set by `connect`.
   */
  node?: Omit<NodeOptions, "keyPair" | "transports" | "seeds" | "platform" | "dataDir" | "relay"> & {
    relay?: Omit<RelayOptions, "gateway" | "serve" | "serveGateway">;
  };
}

/** The node of a page: a `Node`, plus `close()` (the same as `stop()`). */
export type BrowserNode = Node & {
  /** Leave the mesh: close the connection to the gateway (which sees the peer go at once). Same as `stop()`. */
  close(): Promise<void>;
};

/** A started browser peer: the node, the gateway it joined through, and its identity. */
export interface BrowserPeer {
  /** The running node (`publish`, `subscribe`, `call`, `advertise`, `content`, `close`, …). */
  node: BrowserNode;
  /** The gateway it reaches the mesh through. */
  gateway: GatewayInfo;
  /** Where its identity came from, and whether it is kept. */
  identity: Omit<BrowserIdentity, "keyPair">;
}

/** Where this module was served from (the gateway by default), if over http(s): its URL without the file name. */
function servedFrom(): URL | undefined {
  const here = new URL(import.meta.url);
  return here.protocol === "http:" || here.protocol === "https:" ? new URL(".", here) : undefined;
}

/**
 * Join the mesh from a page: identity, gateway, node. Returns the gateway
 * and identity with the node; `connect` returns only the node.
 *
 * @example
 * ```ts
 * import { startBrowserPeer } from "./peer.ts";
 * const { node, gateway, identity } = await startBrowserPeer({ identity: { ephemeral: true } });
 * console.log(node.did, "via", gateway.id, identity.source);
 * await node.stop();
 * ```
 */
export async function startBrowserPeer(options: ConnectOptions = {}): Promise<BrowserPeer> {
  const base = options.gateway !== undefined ? new URL(options.gateway) : servedFrom();
  if (!base) throw new TypeError("connect() needs options.gateway when /macula.js was not loaded over http(s)");
  const [gateway, identity] = await Promise.all([
    fetchGateway(base),
    loadBrowserIdentity(options.identity),
  ]);
  const platform = currentPlatform();
  const logger = new Logger({
    level: options.logLevel ?? "warn",
    sink: (line) => platform.process.stderr(line),
  });
  const extra = options.node ?? {};
  const native = options.webrtc === false ? undefined : nativeRtcPeerConnection();
  const rtc = native ? webrtcPlugins({ RTCPeerConnection: native }) : undefined;
  const started = await Node.start({
    nat: false,
    punch: false,
    apps: false,
    // Installing artifacts needs files: a page has none.
    registry: false,
    ...extra,
    keyPair: identity.keyPair,
    platform,
    logger,
    realms: options.realms ?? extra.realms ?? [gateway.realms[0]],
    // Content in memory (64 MiB), not provided in turn: a short-lived page is no good source for others.
    content: extra.content === false ? false : { quota: 64 * 1024 ** 2, provide: false, ...extra.content },
    // A DHT client: a short-lived page answers no DHT requests and stays out of routing tables.
    dht: { client: true, ...extra.dht },
    roles: extra.dht?.client === false ? extra.roles : [...extra.roles ?? [], DHT_CLIENT_ROLE],
    transports: [new WebSocketTransport(), ...(rtc ? [rtc.transport] : [])],
    services: [...(rtc?.services ?? []), ...(extra.services ?? [])],
    seeds: [gateway.ws],
    // Reserve at the gateway (others reach the page through it), and reach every node through it.
    relay: { autoReserve: 0, ...extra.relay, gateway: gateway.ws },
  });
  const node: BrowserNode = Object.assign(started, { close: () => started.stop() });
  if (options.stopOnPagehide !== false) {
    // Stopping twice is harmless, so the listener can outlive an explicit stop.
    platform.process.onShutdownSignal(() => void node.stop().catch(() => {}));
  }
  const { keyPair: _secret, ...described } = identity;
  return { node, gateway, identity: described };
}

/**
 * Join the mesh from a page and return the started node.
 *
 * @example
 * ```ts
 * import { connect } from "./peer.ts";
 * const peer = await connect();
 * peer.subscribe("sensors.>", (msg) => console.log(msg.topic, msg.payload));
 * await peer.publish("chat.lobby", { text: "hello from a browser" });
 * console.log(await peer.call("echo", { hi: 1 }));
 * await peer.close();
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<BrowserNode> {
  return (await startBrowserPeer(options)).node;
}
