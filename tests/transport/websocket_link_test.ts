/** The link conformance suite over the WebSocket link (its own HTTP server on loopback). */
import { linkSuite } from "../helpers/link_suite.ts";
import { WebSocketTransport } from "../../src/transport/websocket.ts";
import { currentPlatform } from "../../src/platform/current.ts";

linkSuite(
  "ws",
  (port = 0) => new WebSocketTransport({ listen: { http: currentPlatform().http, host: "127.0.0.1", port } }),
);
