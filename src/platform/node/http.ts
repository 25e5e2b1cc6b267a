/**
 * HTTP serving for the Node platform: `node:http` requests become web
 * `Request`s, the handler's `Response` is written back.
 *
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type Duplex, Readable } from "node:stream";
import type { HttpApi, HttpServer, RequestInfo, SocketAddress } from "../types.ts";
import { NodeUpgrades, refuseUpgrade } from "./websocket.ts";

type Handler = (request: Request, info?: RequestInfo) => Response | Promise<Response>;

/** Upgrades of every server, by the requests they made (a request belongs to one server). */
const upgrades = new WeakMap<Request, NodeUpgrades>();

function infoOf(req: http.IncomingMessage): RequestInfo {
  return { remoteAddr: { hostname: req.socket.remoteAddress ?? "unknown", port: req.socket.remotePort ?? 0 } };
}

function toRequest(req: http.IncomingMessage, fallbackHost: string): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    } catch {
      // a header value the Fetch API rejects is dropped
    }
  }
  let url: URL;
  try {
    url = new URL(req.url ?? "/", `http://${req.headers.host ?? fallbackHost}`);
  } catch {
    url = new URL(req.url ?? "/", `http://${fallbackHost}`);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : undefined,
    duplex: "half",
  } as RequestInit);
}

async function respond(res: http.ServerResponse, response: Response, head: boolean): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (head || !response.body) {
    await response.body?.cancel();
    res.end();
    return;
  }
  for await (const chunk of response.body) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
  }
  res.end();
}

function serve(addr: SocketAddress, handler: Handler): Promise<HttpServer> {
  const fallbackHost = addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
  const server = http.createServer((req, res) => {
    (async () => {
      let response: Response;
      try {
        response = await handler(toRequest(req, fallbackHost), infoOf(req));
      } catch {
        response = new Response("internal error", { status: 500 });
      }
      await respond(res, response, req.method === "HEAD");
    })().catch(() => res.destroy());
  });
  const sockets = new NodeUpgrades();
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const request = toRequest(req, fallbackHost);
    sockets.hold(request, { req, socket, head });
    upgrades.set(request, sockets);
    (async () => {
      let response: Response;
      try {
        response = await handler(request, infoOf(req));
      } catch {
        response = new Response("internal error", { status: 500 });
      }
      if (!sockets.upgraded(response) && !socket.destroyed) await refuseUpgrade(socket, response);
    })().catch(() => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: addr.hostname, port: addr.port }, () => {
      server.off("error", reject);
      server.on("error", () => {}); // accept errors must not crash the process
      const bound = server.address() as AddressInfo;
      resolve({
        addr: { hostname: bound.address, port: bound.port },
        close: () =>
          new Promise<void>((done) => {
            sockets.close();
            server.close(() => done());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 1_000).unref();
          }),
      });
    });
  });
}

/**
 * HTTP serving with web-standard handlers on `node:http`.
 *
 * @example
 * ```ts
 * import { nodeHttp } from "./http.ts";
 * const server = await nodeHttp.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
 * console.log(await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text()); // "ok"
 * await server.close();
 * ```
 */
export const nodeHttp: HttpApi = {
  serve,
  upgradeWebSocket(request) {
    const sockets = upgrades.get(request);
    if (!sockets) throw new TypeError("not a WebSocket upgrade request of a server of this platform");
    return sockets.upgrade(request);
  },
};
