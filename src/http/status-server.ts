/**
 * The node's HTTP interface (loopback by default): `/health`, `/ready`,
 * `/status`, `/peers`, `/metrics`.
 *
 * @module
 */
import type { NodeCore } from "../node/node.ts";
import type { HttpApi, HttpServer } from "../platform/types.ts";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Route one request. Exported for tests.
 *
 * @example
 * ```ts
 * import { handleStatusRequest } from "./status-server.ts";
 * declare const node: import("../node/node.ts").NodeCore;
 * const res = handleStatusRequest(node, new Request("http://localhost/health"));
 * res.status; // 200
 * ```
 */
export function handleStatusRequest(node: NodeCore, request: Request): Response {
  const url = new URL(request.url);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return json({ error: "method not allowed" }, 405);
  }
  switch (url.pathname) {
    case "/health":
      return json({ status: "ok" });
    case "/ready":
      return json({ status: "ready" });
    case "/status":
      return json(node.status());
    case "/peers":
      return json(node.peers());
    case "/metrics":
      return new Response(node.metrics.registry.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    default:
      return json({ error: "not found", paths: ["/health", "/ready", "/status", "/peers", "/metrics"] }, 404);
  }
}

/** Serve the status endpoints of `node` on `host:port`. */
export function startStatusServer(node: NodeCore, http: HttpApi, host: string, port: number): Promise<HttpServer> {
  return http.serve({ hostname: host, port }, (request) => handleStatusRequest(node, request));
}
