/**
 * The status server's token rule: when the server is reachable from other
 * machines, every route but `OPEN_PATHS` needs the console token
 * (bearer or cookie), and `GET /console?token=…` trades the token in the
 * URL for the cookie.
 *
 * @module
 */
import type { RequestInfo } from "../platform/types.ts";
import { ConsoleTokenError, requestToken, sameToken, tokenCookie } from "../console/token.ts";

/**
 * Paths open without the token: probes of orchestrators and load balancers,
 * the mesh's WebSocket link (its Noise handshake authenticates the peer),
 * and the browser library and its gateway description (public: see
 * `browser-routes.ts`).
 */
export const OPEN_PATHS: readonly string[] = ["/health", "/ready", "/macula/ws", "/macula.js", "/macula/gateway"];

/**
 * `handler` behind the token: a request without the right token gets 401
 * `{ error, code: "E_CONSOLE_TOKEN" }`, whose message ends with `hint`
 * (where the token is).
 *
 * @example
 * ```ts
 * import { tokenGate } from "./token-gate.ts";
 * const gated = tokenGate("secret-token", "see console-token in the data dir", () => new Response("ok"));
 * const res = await gated(new Request("http://10.0.0.2/status"));
 * res.status; // 401
 * ```
 */
export function tokenGate(
  token: string,
  hint: string,
  handler: (request: Request, info?: RequestInfo) => Response | Promise<Response>,
): (request: Request, info?: RequestInfo) => Promise<Response> {
  return async (request, info) => {
    const url = new URL(request.url);
    if (OPEN_PATHS.includes(url.pathname)) return await handler(request, info);
    const query = url.searchParams.get("token");
    if (
      query !== null && request.method === "GET" && (url.pathname === "/console" || url.pathname === "/console/") &&
      sameToken(token, query)
    ) {
      return new Response(null, {
        status: 302,
        headers: {
          location: "/console",
          "set-cookie": tokenCookie(token),
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        },
      });
    }
    const given = requestToken(request);
    if (given === undefined || !sameToken(token, given)) {
      const error = new ConsoleTokenError(hint);
      return new Response(JSON.stringify({ error: error.message, code: error.code }) + "\n", {
        status: 401,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "www-authenticate": 'Bearer realm="macula"',
          "cache-control": "no-store",
        },
      });
    }
    return await handler(request, info);
  };
}
