/**
 * Pub/sub and RPC through the node, on its status port: what
 * `macula pub|sub|call --as-node` use, so that a command acts with the
 * node's own identity and capabilities (in a closed realm a short-lived
 * client identity holds none).
 *
 * | route | answer |
 * |---|---|
 * | `POST /pubsub/publish` `{topic, payload, realm?}` | `{topic, realm, subscribers}` |
 * | `GET /pubsub/subscribe?pattern=P[&realm=R]` | one JSON line per message `{topic, realm, payload, publisher, seq}` |
 * | `POST /rpc/call` `{procedure, args, realm?, timeout?}` | `{result}` |
 *
 * Every route is refused with 403 unless the server is bound to loopback: they
 * act with the node's identity. Errors are one-line JSON `{"error", "code"}`
 * (403 for a refusal by the mesh, 400 for bad input, 502 otherwise).
 *
 * @module
 */
import type { PublishResult } from "../pubsub/pubsub.ts";
import type { PubSubMessage } from "../pubsub/subscription.ts";
import { MaculaError } from "../util/errors.ts";
import { BadRequestError, readJsonObject } from "./json-body.ts";
import { json, type Route } from "./status-server.ts";

/** What the routes need of the node (`Node` has it). */
export interface MeshApi {
  /** The realms of the node; the first is the default. */
  readonly realms: readonly string[];
  publish(topic: string, payload: unknown, options: { realm?: string }): Promise<PublishResult>;
  subscribe(
    pattern: string,
    handler: undefined,
    options: { realm?: string },
  ): AsyncIterable<PubSubMessage> & { readonly realm: string; unsubscribe(): void };
  call(procedure: string, args: unknown, options: { realm?: string; timeout?: number }): Promise<unknown>;
  /** Resolves once this node's subscriptions are announced to the mesh. */
  whenAnnounced?(): Promise<void>;
  /** Resolves once queued messages are sent. */
  flush?(): Promise<void>;
}

const REFUSED = "acting as the node is refused: the status server is not bound to loopback";
const MAX_BODY = 1024 * 1024;

function errorResponse(error: unknown): Response {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  const code = error instanceof MaculaError ? error.code : "E_UNKNOWN";
  const status = code === "E_BAD_REQUEST"
    ? 400
    : code === "E_NOT_AUTHORIZED" || code.startsWith("E_UCAN") || code.startsWith("E_APP")
    ? 403
    : 502;
  return json({ error: message, code }, status);
}

function body(request: Request): Promise<Record<string, unknown>> {
  return readJsonObject(request, MAX_BODY);
}

function text(doc: Record<string, unknown>, key: string, optional = false): string | undefined {
  const v = doc[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string" || v === "") throw new BadRequestError(`"${key}" must be a non-empty string`);
  return v;
}

/** The NDJSON stream of a subscription; cancelling it (the client leaves) unsubscribes. */
function stream(sub: ReturnType<MeshApi["subscribe"]>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = sub[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) return controller.close();
      const m = next.value;
      const line = { topic: m.topic, realm: m.realm, payload: m.payload, publisher: m.publisher.did, seq: m.seq };
      controller.enqueue(encoder.encode(JSON.stringify(line) + "\n"));
    },
    cancel() {
      sub.unsubscribe();
    },
  }, { highWaterMark: 0 });
}

/**
 * The `/pubsub` and `/rpc` routes over `mesh`, for `startStatusServer`'s `routes`.
 *
 * @example
 * ```ts
 * import { meshRoutes } from "./mesh-routes.ts";
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../api/node.ts").Node;
 * declare const http: import("../platform/types.ts").HttpApi;
 * const server = await startStatusServer(node, http, "127.0.0.1", 8080, { routes: [meshRoutes(node)] });
 * ```
 */
export function meshRoutes(mesh: MeshApi): Route {
  return async (request, url, context) => {
    const path = url.pathname;
    if (path !== "/pubsub/publish" && path !== "/pubsub/subscribe" && path !== "/rpc/call") return undefined;
    if (!context.loopback) return json({ error: REFUSED, code: "E_FORBIDDEN" }, 403);
    const method = path === "/pubsub/subscribe" ? "GET" : "POST";
    if (request.method !== method) {
      return json({ error: `method ${request.method} not allowed on ${path}` }, 405, { allow: method });
    }
    try {
      if (path === "/pubsub/subscribe") {
        const pattern = url.searchParams.get("pattern");
        if (!pattern) throw new BadRequestError("name the pattern: /pubsub/subscribe?pattern=P");
        const sub = mesh.subscribe(pattern, undefined, { realm: url.searchParams.get("realm") || undefined });
        await mesh.whenAnnounced?.();
        return new Response(stream(sub), {
          headers: { "content-type": "application/x-ndjson; charset=utf-8", "x-macula-realm": sub.realm },
        });
      }
      const doc = await body(request);
      const realm = text(doc, "realm", true);
      if (path === "/pubsub/publish") {
        const topic = text(doc, "topic")!;
        const result = await mesh.publish(topic, doc.payload ?? null, { realm });
        await mesh.flush?.();
        return json({ topic, realm: realm ?? mesh.realms[0], subscribers: result.remote, local: result.local });
      }
      const procedure = text(doc, "procedure")!;
      const timeout = doc.timeout;
      if (timeout !== undefined && (!Number.isSafeInteger(timeout) || (timeout as number) <= 0)) {
        throw new BadRequestError('"timeout" must be a positive number of ms');
      }
      const result = await mesh.call(procedure, doc.args ?? null, { realm, timeout: timeout as number | undefined });
      return json({ result: result ?? null });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
