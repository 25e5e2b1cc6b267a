/**
 * UCAN containers (ucan-wg/container v0.1.0): tokens bundled as the
 * DAG-CBOR map `{"ctn-v1": [token bytes…]}` (tokens sorted bytewise, no
 * duplicates), as text: a header character then the encoded bytes. This
 * library writes `C` (base64url, no padding, uncompressed) and reads `C` and
 * `B` (base64 with padding); compressed (`O`, `P`) and raw (`@`, `M`)
 * containers are refused.
 *
 * @module
 */
import * as dagCbor from "npm:@ipld/dag-cbor@10.0.2";
import { base64pad, base64url } from "npm:multiformats@14.0.5/bases/base64";
import { Delegation } from "./delegation.ts";
import { MAX_TOKEN_BYTES } from "./envelope.ts";
import { InvalidContainerError } from "./errors.ts";
import { isMap } from "./ipld.ts";

/** Most tokens a container may hold. */
export const MAX_CONTAINER_TOKENS = 256;
/** Longest container text accepted, in characters. */
export const MAX_CONTAINER_TEXT = 4 * 1024 * 1024;

const KEY = "ctn-v1";

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Bundle `tokens` (their bytes) as container text (`C` + base64url).
 *
 * @example
 * ```ts
 * import { decodeContainer, encodeContainer } from "./container.ts";
 * const text = encodeContainer([new Uint8Array([1, 2])]);
 * text.startsWith("C"); // true
 * decodeContainer(text); // [Uint8Array [1, 2]]
 * ```
 */
export function encodeContainer(tokens: readonly Uint8Array[]): string {
  if (tokens.length > MAX_CONTAINER_TOKENS) {
    throw new InvalidContainerError(`a container holds at most ${MAX_CONTAINER_TOKENS} tokens`);
  }
  const sorted = [...tokens].sort(compareBytes).filter((t, i, all) => i === 0 || compareBytes(all[i - 1], t) !== 0);
  return "C" + base64url.baseEncode(dagCbor.encode({ [KEY]: sorted }));
}

function decodeBase(text: string, codec: typeof base64url | typeof base64pad, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = codec.baseDecode(text);
  } catch (e) {
    throw new InvalidContainerError(`container is not valid ${name}`, { cause: e });
  }
  if (codec.baseEncode(bytes) !== text) throw new InvalidContainerError(`container is not canonical ${name}`);
  return bytes;
}

/**
 * The tokens (bytes) of container `text` (surrounding whitespace ignored),
 * in the container's order. Throws `InvalidContainerError`.
 */
export function decodeContainer(text: string): Uint8Array[] {
  if (typeof text !== "string") throw new InvalidContainerError("a container is text");
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new InvalidContainerError("empty container");
  if (trimmed.length > MAX_CONTAINER_TEXT) {
    throw new InvalidContainerError(`container longer than ${MAX_CONTAINER_TEXT} characters`);
  }
  const header = trimmed[0];
  const body = trimmed.slice(1);
  let bytes: Uint8Array;
  if (header === "C") bytes = decodeBase(body, base64url, "base64url");
  else if (header === "B") bytes = decodeBase(body, base64pad, "base64");
  else if (header === "O" || header === "P" || header === "M") {
    throw new InvalidContainerError("compressed (gzip) containers are not supported");
  } else {
    throw new InvalidContainerError(
      `unknown container header ${JSON.stringify(header)} (expected C: base64url or B: base64)`,
    );
  }
  let decoded: unknown;
  try {
    decoded = dagCbor.decode(bytes);
  } catch (e) {
    throw new InvalidContainerError(`container is not DAG-CBOR: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  if (!isMap(decoded) || Object.keys(decoded).length !== 1 || !Array.isArray(decoded[KEY])) {
    throw new InvalidContainerError(`a container is the map {"${KEY}": [tokens]}`);
  }
  const tokens = decoded[KEY] as unknown[];
  if (tokens.length > MAX_CONTAINER_TOKENS) {
    throw new InvalidContainerError(`a container holds at most ${MAX_CONTAINER_TOKENS} tokens`);
  }
  return tokens.map((t, i) => {
    if (!(t instanceof Uint8Array)) throw new InvalidContainerError(`container entry ${i} is not bytes`);
    if (t.length > MAX_TOKEN_BYTES) throw new InvalidContainerError(`container entry ${i} is larger than a token`);
    return t;
  });
}

/** `links` in chain order (each `aud` the next `iss`), or `undefined` if they do not form one chain. */
function chainOrder(links: readonly Delegation[]): Delegation[] | undefined {
  const roots = links.filter((d) => !links.some((o) => o !== d && o.aud === d.iss));
  if (roots.length !== 1) return undefined;
  const ordered = [roots[0]];
  const unused = new Set(links.filter((d) => d !== roots[0]));
  while (unused.size > 0) {
    const current = ordered[ordered.length - 1];
    const next = [...unused].filter((d) => d.iss === current.aud);
    if (next.length !== 1) return undefined;
    ordered.push(next[0]);
    unused.delete(next[0]);
  }
  return ordered;
}

/**
 * The delegations of container `text`, root first: ordered by linkage
 * (each `aud` the next `iss`) since containers sort their tokens; if they
 * do not form a single chain, in the container's order (so that
 * `verifyChain` reports what is wrong). Throws `InvalidContainerError` or,
 * for a bad token, the `UcanError` of `Delegation.decode`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, encodeContainer, parseChain, signerFromKeyPair } from "./mod.ts";
 * const [a, b, c] = [0, 1, 2].map(() => signerFromKeyPair(KeyPair.generate()));
 * const d0 = delegate(a, { aud: b.did, sub: a.did, cmd: "/macula", exp: null });
 * const d1 = delegate(b, { aud: c.did, sub: a.did, cmd: "/macula/pubsub", exp: null });
 * parseChain(encodeContainer([d1.bytes, d0.bytes])).map((d) => d.id); // [d0.id, d1.id]
 * ```
 */
export function parseChain(text: string): Delegation[] {
  const links = decodeContainer(text).map((bytes) => Delegation.decode(bytes));
  if (links.length === 0) throw new InvalidContainerError("container holds no delegation");
  return chainOrder(links) ?? links;
}
