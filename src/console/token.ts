/**
 * The console token: 32 random bytes, base64url, kept in
 * `<dataDir>/console-token` (mode 0600; in memory for a node without a
 * data dir). When the status server binds a non-loopback address, every
 * route but `/health` and `/ready` needs it: `Authorization: Bearer <token>`
 * or the cookie `macula_console=<token>`, which `GET /console?token=<token>`
 * sets before redirecting to `/console`.
 *
 * @module
 */
import type { FsApi } from "../platform/types.ts";
import { MaculaError } from "../util/errors.ts";
import { toBase64, utf8 } from "../util/bytes.ts";

/** The cookie that carries the token (HttpOnly, SameSite=Strict, Path=/). */
export const CONSOLE_COOKIE = "macula_console";

/** The token file's name in the data dir. */
export const CONSOLE_TOKEN_FILE = "console-token";

/** A request without the right console token (HTTP 401). */
export class ConsoleTokenError extends MaculaError {
  /** `where` says where the token is (file or log line). */
  constructor(where: string) {
    super("E_CONSOLE_TOKEN", `this status port needs the console token (${where})`);
  }
}

/** The token and where it is kept. */
export interface ConsoleToken {
  /** The token (base64url, 43 characters). */
  token: string;
  /** The file it is kept in, when the node has a data dir. */
  path?: string;
}

/** 32 random bytes, base64url without padding. */
export function newConsoleToken(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32))).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The node's console token: read from `<dataDir>/console-token`, created
 * there (mode 0600) when missing or malformed; a fresh in-memory token
 * without a data dir.
 *
 * @example
 * ```ts
 * import { loadConsoleToken } from "./token.ts";
 * const { token, path } = await loadConsoleToken(undefined, undefined);
 * token.length; // 43
 * path; // undefined
 * ```
 */
export async function loadConsoleToken(fs: FsApi | undefined, dataDir: string | undefined): Promise<ConsoleToken> {
  if (!fs || !dataDir) return { token: newConsoleToken() };
  const path = fs.join(dataDir, CONSOLE_TOKEN_FILE);
  const existing = await fs.readFile(path);
  if (existing) {
    const text = new TextDecoder().decode(existing).trim();
    if (TOKEN.test(text)) return { token: text, path };
  }
  const token = newConsoleToken();
  await fs.mkdir(dataDir, 0o700);
  await fs.writeFileAtomic(path, utf8(token + "\n"), 0o600);
  return { token, path };
}

/** Compare two strings in time independent of where they differ (only their lengths leak). */
export function sameToken(expected: string, given: string): boolean {
  const a = utf8(expected);
  const b = utf8(given);
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ (b[i % Math.max(b.length, 1)] ?? 0);
  return diff === 0;
}

/** The token a request carries: the bearer token, else the console cookie. */
export function requestToken(request: Request): string | undefined {
  const auth = request.headers.get("authorization");
  const bearer = auth?.match(/^Bearer\s+(\S+)\s*$/i);
  if (bearer) return bearer[1];
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === CONSOLE_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The `set-cookie` value that stores `token` in the browser. */
export function tokenCookie(token: string): string {
  return `${CONSOLE_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}
