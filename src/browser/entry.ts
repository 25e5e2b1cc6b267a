/**
 * The browser library, `/macula.js`: every node serves this module, bundled
 * by `scripts/build-browser.ts`. Importing it installs the browser platform
 * (before anything asks for one) and offers `connect`, which joins the mesh
 * through the node that served it.
 *
 * ```html
 * <script type="module">
 *   import { connect } from "http://gateway:8080/macula.js";
 *   const peer = await connect();
 *   peer.subscribe("chat.>", (m) => console.log(m.topic, m.payload));
 *   await peer.publish("chat.lobby", "hello");
 * </script>
 * ```
 *
 * @example
 * ```ts
 * import { connect } from "./entry.ts";
 * const peer = await connect({ identity: { database: "my-app" } });
 * console.log(peer.did);
 * ```
 *
 * @module
 */
import "./install.ts";

export { type BrowserNode, type BrowserPeer, connect, type ConnectOptions, startBrowserPeer } from "./peer.ts";
export {
  type BrowserIdentity,
  BrowserIdentityError,
  type BrowserIdentityOptions,
  decodeStoredIdentity,
  loadBrowserIdentity,
} from "./identity-store.ts";
export { BrowserGatewayError, decodeGatewayInfo, fetchGateway, type GatewayInfo } from "./gateway.ts";
export { BrowserUnavailableError } from "../platform/browser.ts";
export { Node, type NodeOptions } from "../api/node.ts";
export { NodeId } from "../identity/node-id.ts";
export { MaculaError } from "../util/errors.ts";
export { VERSION } from "../version.ts";
export { WebSocketTransport } from "../transport/websocket.ts";
export { KeyPair } from "../identity/ed25519.ts";
export { parseChain } from "../ucan/mod.ts";
export { NotAuthorizedError } from "../node/authorize.ts";
export { RINGS, RingsService } from "../rings/rings-service.ts";
export { Ring } from "../rings/ring.ts";
export { RingError } from "../rings/errors.ts";
