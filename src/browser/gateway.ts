/**
 * The gateway a browser peer joins the mesh through: the node that served
 * `/macula.js` answers `GET /macula/gateway` with `{ id, ws, realms }` (its
 * `did:key`, its WebSocket address `ws://host:port/did:key:…` as the page
 * reached it, and its realms). `gatewayInfo` builds that answer on the node,
 * `fetchGateway` asks for it in the page, and `decodeGatewayInfo` checks it:
 * anything else is a `BrowserGatewayError` (code `E_BROWSER_GATEWAY`).
 *
 * @module
 */
import { decodeDidKey } from "../identity/did.ts";
import { MaculaError } from "../util/errors.ts";

/** The gateway is unreachable, or answered something that is not a gateway description. */
export class BrowserGatewayError extends MaculaError {
  /** `message` says what is wrong; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_BROWSER_GATEWAY", message, options);
  }
}

/** What `GET /macula/gateway` answers. */
export interface GatewayInfo {
  /** The gateway node's `did:key`. */
  id: string;
  /** Its WebSocket address, `ws://host:port/did:key:…` (or `wss://`). */
  ws: string;
  /** Its realms, the primary first. */
  realms: string[];
}

/** The path of the gateway description on a node's status server. */
export const GATEWAY_PATH = "/macula/gateway";

/** Longest accepted answer, characters (a did, an address and a few realms fit in far less). */
const MAX_ANSWER = 16 * 1024;
/** Most realms accepted. */
const MAX_REALMS = 64;

/**
 * The description a node serves at `/macula/gateway` for a request to
 * `requestUrl` (the host the page used, so the page dials the node as it
 * reached it; `https:` pages get `wss:`).
 *
 * @example
 * ```ts
 * import { gatewayInfo } from "./gateway.ts";
 * const did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
 * gatewayInfo(new URL("http://127.0.0.1:8080/macula/gateway"), did, ["default"]).ws;
 * // "ws://127.0.0.1:8080/did:key:z6Mk…"
 * ```
 */
export function gatewayInfo(requestUrl: URL, id: string, realms: readonly string[]): GatewayInfo {
  const scheme = requestUrl.protocol === "https:" ? "wss" : "ws";
  return { id, ws: `${scheme}://${requestUrl.host}/${id}`, realms: [...realms] };
}

/**
 * Check a decoded `/macula/gateway` answer.
 *
 * @example
 * ```ts
 * import { decodeGatewayInfo } from "./gateway.ts";
 * const id = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
 * decodeGatewayInfo({ id, ws: `ws://127.0.0.1:8080/${id}`, realms: ["default"] }).realms; // ["default"]
 * ```
 */
export function decodeGatewayInfo(value: unknown): GatewayInfo {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BrowserGatewayError("the gateway's answer is not a JSON object");
  }
  const v = value as Record<string, unknown>;
  if (typeof v.id !== "string") throw new BrowserGatewayError("the gateway's answer has no id");
  try {
    decodeDidKey(v.id);
  } catch (error) {
    throw new BrowserGatewayError(`the gateway's id is not a did:key: ${(error as Error).message}`, { cause: error });
  }
  if (typeof v.ws !== "string" || !/^wss?:\/\/[^/\s]+\//.test(v.ws)) {
    throw new BrowserGatewayError("the gateway's ws address is not a ws:// or wss:// address");
  }
  if (!v.ws.endsWith(`/${v.id}`)) throw new BrowserGatewayError("the gateway's ws address does not end with its id");
  let url: URL;
  try {
    url = new URL(v.ws.slice(0, v.ws.length - v.id.length));
  } catch (error) {
    throw new BrowserGatewayError("the gateway's ws address is not a URL", { cause: error });
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username) {
    throw new BrowserGatewayError("the gateway's ws address has a path, query or credentials");
  }
  if (
    !Array.isArray(v.realms) || v.realms.length === 0 || v.realms.length > MAX_REALMS ||
    !v.realms.every((r) => typeof r === "string" && r.length > 0 && r.length <= 256)
  ) {
    throw new BrowserGatewayError("the gateway's realms are not a list of 1 to 64 names");
  }
  return { id: v.id, ws: v.ws, realms: [...v.realms as string[]] };
}

/**
 * Ask the node at `base` (the URL `/macula.js` was served from, without the
 * file name: usually the node's origin) for its gateway description at
 * `macula/gateway` under it.
 *
 * @example
 * ```ts
 * import { fetchGateway } from "./gateway.ts";
 * const gateway = await fetchGateway(new URL("http://127.0.0.1:8080/"));
 * console.log(gateway.ws);
 * ```
 */
export async function fetchGateway(base: URL, signal?: AbortSignal): Promise<GatewayInfo> {
  // Relative to `base`: a node served under a path prefix (a reverse proxy) answers under it too.
  const url = new URL(GATEWAY_PATH.slice(1), base.href.endsWith("/") ? base : new URL(`${base.href}/`));
  let text: string;
  try {
    const res = await fetch(url, { signal, headers: { accept: "application/json" } });
    text = await res.text();
    if (!res.ok) throw new BrowserGatewayError(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
  } catch (error) {
    if (error instanceof BrowserGatewayError) throw error;
    throw new BrowserGatewayError(`cannot reach the gateway at ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (text.length > MAX_ANSWER) throw new BrowserGatewayError(`the gateway's answer is over ${MAX_ANSWER} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BrowserGatewayError("the gateway's answer is not JSON", { cause: error });
  }
  return decodeGatewayInfo(value);
}
