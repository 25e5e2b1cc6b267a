/**
 * The browser library's routes on the status server, both public (no
 * console token: a page anywhere may load them; the mesh link's Noise
 * handshake authenticates the peer, and closed realms still guard every
 * operation):
 *
 * - `GET /macula.js`: the bundled library (`src/browser/bundle.gen.ts`), an
 *   ES module, gzip when the client takes it, cacheable by ETag, loadable
 *   from other origins (CORS);
 * - `GET /macula/gateway`: `{ id, ws, realms }`, how a page reaches this
 *   node over WebSocket (see `src/browser/gateway.ts`).
 *
 * @module
 */
import { MACULA_JS_GZIP } from "../browser/bundle.gen.ts";
import { GATEWAY_PATH, gatewayInfo } from "../browser/gateway.ts";
import { fromBase64 } from "../util/bytes.ts";
import { json, type Route } from "./status-server.ts";

/** The path the browser library is served at. */
export const LIBRARY_PATH = "/macula.js";

/** The public paths of these routes (open without the console token). */
export const BROWSER_PATHS: readonly string[] = [LIBRARY_PATH, GATEWAY_PATH];

/** What the routes need of the node. */
export interface BrowserRouteSource {
  /** The node's `did:key`. */
  readonly did: string;
  /** Its realms, the primary first. */
  readonly realms: readonly string[];
}

/** FNV-1a of a string, hex: the library's ETag. */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

const CORS = { "access-control-allow-origin": "*" };

/** Options of `browserRoutes`. */
export interface BrowserRoutesOptions {
  /** Base64 of the gzip-compressed module (default: the embedded build). */
  library?: string;
  /**
   * Whether this node serves browsers as their gateway (its WebSocket link
   * is on). Default true; when false `/macula/gateway` answers 503
   * `E_NO_GATEWAY`, so a page fails at once with a clear reason.
   */
  gateway?: boolean;
}

/**
 * The `/macula.js` and `/macula/gateway` routes of `node`.
 *
 * @example
 * ```ts
 * import { browserRoutes } from "./browser-routes.ts";
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../api/node.ts").Node;
 * declare const http: import("../platform/types.ts").HttpApi;
 * const server = await startStatusServer(node, http, "127.0.0.1", 8080, { routes: [browserRoutes(node)] });
 * ```
 */
export function browserRoutes(node: BrowserRouteSource, options: BrowserRoutesOptions = {}): Route {
  const library = options.library ?? MACULA_JS_GZIP;
  const gzip = fromBase64(library) as Uint8Array<ArrayBuffer>;
  const etag = `"${fnv(library)}"`;
  return (request, url) => {
    if (url.pathname !== LIBRARY_PATH && url.pathname !== GATEWAY_PATH) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json({ error: "method not allowed" }, 405, { allow: "GET, HEAD" });
    }
    if (url.pathname === GATEWAY_PATH) {
      const headers = { ...CORS, "cache-control": "no-store" };
      if (options.gateway === false) {
        const error = "this node serves no browsers: its WebSocket link is off (--no-ws)";
        return json({ error, code: "E_NO_GATEWAY" }, 503, headers);
      }
      return json(gatewayInfo(url, node.did, node.realms), 200, headers);
    }
    const headers: Record<string, string> = {
      ...CORS,
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
      etag,
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
    };
    if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    const body = request.method === "HEAD" ? null : gzip;
    if (/\bgzip\b/i.test(request.headers.get("accept-encoding") ?? "")) {
      return new Response(body, { headers: { ...headers, "content-encoding": "gzip" } });
    }
    if (!body) return new Response(null, { headers });
    return new Response(new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip")), { headers });
  };
}
