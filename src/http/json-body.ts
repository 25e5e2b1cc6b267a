/**
 * Reading the JSON object a POST route takes, with a typed error for a body
 * that is too large, not JSON, or not an object.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** A request body that is not what the route takes (`E_BAD_REQUEST`, answered with 400). */
export class BadRequestError extends MaculaError {
  /** A bad request, `message` saying what is wrong with it. */
  constructor(message: string) {
    super("E_BAD_REQUEST", message);
  }
}

/**
 * The body of `request` as a JSON object of at most `maxBytes` characters;
 * `BadRequestError` otherwise.
 *
 * @example
 * ```ts
 * import { readJsonObject } from "./json-body.ts";
 * const doc = await readJsonObject(new Request("http://x/", { method: "POST", body: '{"a":1}' }), 1024);
 * console.log(doc.a); // 1
 * ```
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > maxBytes) throw new BadRequestError(`the body is over ${maxBytes} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`the body is not JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new BadRequestError("the body is not an object");
  }
  return doc as Record<string, unknown>;
}
