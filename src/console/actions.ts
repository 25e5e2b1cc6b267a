/**
 * The console's actions: `POST /console/actions/{ping,publish,call}`.
 * Bodies are untrusted: the decoder checks every field and answers a typed
 * error; the handler also refuses read-only nodes, other content types,
 * cross-origin requests (an `Origin` that is not the request's host) and
 * bodies over 64 KiB.
 *
 * @module
 */
import { NodeId } from "../identity/node-id.ts";
import { MaculaError } from "../util/errors.ts";
import type { ConsoleAction, ConsoleActionResult } from "./protocol.ts";

/** Largest action body, bytes. */
export const MAX_ACTION_BODY = 64 * 1024;
/** Largest payload of a published test message, characters. */
export const MAX_ACTION_PAYLOAD = 16 * 1024;
/** The action kinds. */
export const ACTION_KINDS: readonly ConsoleAction["kind"][] = ["ping", "publish", "call"];

/** An action refused: `status` is the HTTP status, `code` the stable code. */
export class ConsoleActionError extends MaculaError {
  /** Build the error with its HTTP `status`, `code` and one-line `message`. */
  constructor(readonly status: number, code: string, message: string) {
    super(code, message);
  }
}

const bad = (message: string) => new ConsoleActionError(400, "E_CONSOLE_ACTION", message);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function text(body: Record<string, unknown>, field: string, max: number, optional = false): string | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string") throw bad(`"${field}" must be a string`);
  if (v.length === 0 || v.length > max) throw bad(`"${field}" must be 1 to ${max} characters`);
  return v;
}

const FIELDS: Record<ConsoleAction["kind"], string[]> = {
  ping: ["kind", "peer"],
  publish: ["kind", "realm", "topic", "payload"],
  call: ["kind", "realm", "procedure", "args", "timeout"],
};

/**
 * Decode the body of `POST /console/actions/<kind>` (already parsed JSON).
 * Throws `ConsoleActionError` (400, `E_CONSOLE_ACTION`) on an unknown kind,
 * a `kind` field that differs from the URL's, unknown fields, or a field of
 * the wrong type or size.
 *
 * @example
 * ```ts
 * import { decodeConsoleAction } from "./actions.ts";
 * const action = decodeConsoleAction("publish", { topic: "console.test", payload: "hi" });
 * action.kind; // "publish"
 * ```
 */
export function decodeConsoleAction(kind: string, body: unknown): ConsoleAction {
  if (!(ACTION_KINDS as readonly string[]).includes(kind)) throw bad(`unknown action ${JSON.stringify(kind)}`);
  const k = kind as ConsoleAction["kind"];
  if (!isRecord(body)) throw bad("the body must be a JSON object");
  if (body.kind !== undefined && body.kind !== k) throw bad(`"kind" must be ${JSON.stringify(k)} (the URL's)`);
  for (const field of Object.keys(body)) {
    if (!FIELDS[k].includes(field)) throw bad(`unknown field ${JSON.stringify(field.slice(0, 40))} for ${k}`);
  }
  switch (k) {
    case "ping": {
      const peer = text(body, "peer", 128)!;
      try {
        NodeId.fromDid(peer);
      } catch {
        throw bad(`"peer" must be a did:key`);
      }
      return { kind: "ping", peer };
    }
    case "publish": {
      const realm = text(body, "realm", 64, true);
      const topic = text(body, "topic", 255)!;
      if (typeof body.payload !== "string" || body.payload.length > MAX_ACTION_PAYLOAD) {
        throw bad(`"payload" must be a string of at most ${MAX_ACTION_PAYLOAD} characters`);
      }
      return { kind: "publish", ...(realm !== undefined ? { realm } : {}), topic, payload: body.payload };
    }
    case "call": {
      const realm = text(body, "realm", 64, true);
      const procedure = text(body, "procedure", 255)!;
      const t = body.timeout;
      if (t !== undefined && (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > 60_000)) {
        throw bad(`"timeout" must be an integer from 1 to 60000 (ms)`);
      }
      return {
        kind: "call",
        ...(realm !== undefined ? { realm } : {}),
        procedure,
        args: body.args ?? null,
        ...(t !== undefined ? { timeout: t as number } : {}),
      };
    }
  }
}

/** What actions act on: the node's ping, publish and call. */
export interface ActionTarget {
  /** Round trip to `peer`, ms. */
  ping(peer: string, options: { signal?: AbortSignal }): Promise<number>;
  /** Publish on `topic`. */
  publish(topic: string, payload: unknown, options: { realm?: string }): Promise<unknown>;
  /** Call `procedure`. */
  call(procedure: string, args: unknown, options: { realm?: string; timeout?: number }): Promise<unknown>;
}

/** Input errors of the node's own checks (bad topic, realm, payload): the caller's fault. */
const INPUT_CODES = new Set(["E_TOPIC_INVALID", "E_REALM", "E_PAYLOAD_TOO_LARGE", "E_DID_INVALID"]);

/** Run `action` on `target`; never throws: the result carries the error and its HTTP status. */
export async function runConsoleAction(
  target: ActionTarget,
  action: ConsoleAction,
): Promise<{ status: number; body: ConsoleActionResult }> {
  try {
    let result: unknown;
    if (action.kind === "ping") {
      result = { rtt: await target.ping(action.peer, { signal: AbortSignal.timeout(5_000) }) };
    } else if (action.kind === "publish") {
      result = await target.publish(action.topic, action.payload, { realm: action.realm });
    } else {
      result = await target.call(action.procedure, action.args, { realm: action.realm, timeout: action.timeout });
    }
    return { status: 200, body: { ok: true, result: result ?? null } };
  } catch (error) {
    const code = error instanceof MaculaError ? error.code : "E_CONSOLE_ACTION_FAILED";
    const message = String((error as Error)?.message ?? error).split("\n")[0];
    const status = INPUT_CODES.has(code) ? 400 : code === "E_TIMEOUT" || code === "E_ABORTED" ? 504 : 502;
    return { status, body: { ok: false, error: message, code } };
  }
}

/** Read at most `max` bytes of `request`'s body as text; 413 beyond. */
async function readBody(request: Request, max: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = () => new ConsoleActionError(413, "E_CONSOLE_TOO_LARGE", `the body exceeds ${max} bytes`);
  if (declared > max) throw tooLarge();
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) all.set(c, off), off += c.length;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw bad("the body is not UTF-8");
  }
}

/**
 * Check a request to `POST /console/actions/<kind>` (read-only, content
 * type, origin, size, JSON, fields) and decode its action. Throws
 * `ConsoleActionError` with the status to answer.
 */
export async function readConsoleAction(request: Request, kind: string, readonly: boolean): Promise<ConsoleAction> {
  if (request.method !== "POST") throw new ConsoleActionError(405, "E_METHOD", "actions are POST requests");
  if (readonly) {
    throw new ConsoleActionError(403, "E_CONSOLE_READONLY", "this console is read-only (--console-readonly)");
  }
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new ConsoleActionError(415, "E_CONSOLE_CONTENT_TYPE", "actions need content-type: application/json");
  }
  const origin = request.headers.get("origin");
  if (origin !== null) {
    let same = false;
    try {
      same = new URL(origin).host === (request.headers.get("host") ?? new URL(request.url).host);
    } catch {
      same = false;
    }
    if (!same) {
      throw new ConsoleActionError(403, "E_CONSOLE_ORIGIN", "cross-origin action refused (Origin is not this host)");
    }
  }
  const body = await readBody(request, MAX_ACTION_BODY);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw bad("the body is not valid JSON");
  }
  return decodeConsoleAction(kind, parsed);
}
