/**
 * Bodies of cluster datagrams (CBOR maps inside the envelope) and their
 * validating decoder.
 *
 * | `t` | message      | fields                                                              |
 * | --- | ------------ | ------------------------------------------------------------------- |
 * | 1   | announce     | `rec` signed node record, `al` alive token, `r` reply wanted         |
 * | 2   | ping         | `n` probe nonce, `tg` target id, `rl` relayed for someone, `g`      |
 * | 3   | ack          | `n`, `g`                                                            |
 * | 4   | ping-req     | `n`, `tg` target id, `a` target endpoint, `g`                        |
 * | 5   | forward-ack  | `n`, `in` the target's whole ack datagram, `g`                       |
 * | 6   | nack         | `n`, `g`                                                            |
 * | 7   | gossip       | `g`                                                                 |
 *
 * `g` is a list of membership updates piggybacked on the message:
 * `{k: 0, al}` alive (with the member's own signed token), `{k: 1, id, i, by}`
 * suspect, `{k: 2, id, i, by}` dead (`by == id`: the member left).
 *
 * An alive token `{id, i, a, s}` is signed by the member itself over its
 * incarnation and SWIM endpoints, so only the member can claim to be alive
 * or move its own endpoints.
 *
 * @module
 */
import { type DomainSigner, verifyDomain } from "../identity/domain-signature.ts";
import { NodeId } from "../identity/node-id.ts";
import { decodeNodeRecord, encodeNodeRecord, type NodeRecord } from "../identity/node-record.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { array, bool, bytes, messageDecoder, object, optional, SchemaError, str, uint } from "../wire/schema.ts";
import { MAX_ENDPOINT_TEXT, parseEndpoint } from "./endpoint.ts";

/** Most SWIM endpoints in one alive token. */
export const MAX_TOKEN_ADDRS = 8;
/** Most updates piggybacked on one message. */
export const MAX_UPDATES = 32;
/** Bytes of a probe nonce. */
export const PROBE_NONCE_LENGTH = 8;
/**
 * Largest incarnation on the wire (2^48, far below 2^53 so that every
 * value and its successor are exact); a message carrying more is malformed.
 */
export const MAX_INCARNATION = 2 ** 48;

/** A member's signed claim to be alive at an incarnation, reachable at `addrs`. */
export interface AliveToken {
  id: NodeId;
  incarnation: number;
  /** SWIM endpoints, `host:port`. */
  addrs: string[];
  sig: Uint8Array;
}

/** A membership update. */
export type Update =
  | { kind: "alive"; token: AliveToken }
  | { kind: "suspect" | "dead"; id: NodeId; incarnation: number; by: NodeId };

/** A decoded cluster message. */
export type Message =
  | { type: "announce"; record: NodeRecord; token: AliveToken; reply: boolean }
  | { type: "ping"; nonce: Uint8Array; target: NodeId; relayed: boolean; updates: Update[] }
  | { type: "ack"; nonce: Uint8Array; updates: Update[] }
  | { type: "ping-req"; nonce: Uint8Array; target: NodeId; addr: string; updates: Update[] }
  | { type: "forward-ack"; nonce: Uint8Array; inner: Uint8Array; updates: Update[] }
  | { type: "nack"; nonce: Uint8Array; updates: Update[] }
  | { type: "gossip"; updates: Update[] };

const TOKEN_DOMAIN = "macula-swim-alive/1";
/** Signature domain of alive tokens (`ServiceHost.sign`). */
export const ALIVE_DOMAIN = "cluster/alive";

function tokenBytes(id: Uint8Array, incarnation: number, addrs: string[]): Uint8Array {
  return encodeCbor([TOKEN_DOMAIN, id, incarnation, addrs]);
}

/**
 * Sign an alive token.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { signerOf } from "../identity/domain-signature.ts";
 * import { createAliveToken, verifyAliveToken } from "./messages.ts";
 * const token = createAliveToken(signerOf(KeyPair.generate()), 3, ["10.0.0.5:40123"]);
 * verifyAliveToken(token); // true
 * ```
 */
export function createAliveToken(signer: DomainSigner, incarnation: number, addrs: string[]): AliveToken {
  const id = signer.id;
  return {
    id,
    incarnation,
    addrs: [...addrs],
    sig: signer.sign(ALIVE_DOMAIN, tokenBytes(id.bytes, incarnation, addrs)),
  };
}

/**
 * Exactly the bytes an alive token's signature covers, followed by the
 * signature: two tokens with the same key bytes are the same signed claim
 * (what a cache of verified tokens must be keyed on).
 */
export function aliveTokenKey(token: AliveToken): Uint8Array {
  const signed = tokenBytes(token.id.bytes, token.incarnation, token.addrs);
  const out = new Uint8Array(signed.length + token.sig.length);
  out.set(signed);
  out.set(token.sig, signed.length);
  return out;
}

/** Does the token's signature verify? */
export function verifyAliveToken(token: AliveToken): boolean {
  return verifyDomain(
    token.id.bytes,
    ALIVE_DOMAIN,
    tokenBytes(token.id.bytes, token.incarnation, token.addrs),
    token.sig,
  );
}

function tokenWire(t: AliveToken): Record<string, unknown> {
  return { id: t.id.bytes, i: t.incarnation, a: t.addrs, s: t.sig };
}

function updateWire(u: Update): Record<string, unknown> {
  if (u.kind === "alive") return { k: 0, al: tokenWire(u.token) };
  return { k: u.kind === "suspect" ? 1 : 2, id: u.id.bytes, i: u.incarnation, by: u.by.bytes };
}

/** CBOR size of one update as it would be piggybacked (for byte budgets). */
export function updateSize(u: Update): number {
  return encodeCbor(updateWire(u)).length;
}

/**
 * Encode a message body.
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeMessage } from "./messages.ts";
 * const body = encodeMessage({ type: "gossip", updates: [] });
 * decodeMessage(body).type; // "gossip"
 * ```
 */
export function encodeMessage(m: Message): Uint8Array {
  const g = "updates" in m ? m.updates.map(updateWire) : undefined;
  switch (m.type) {
    case "announce":
      return encodeCbor({ t: 1, rec: encodeNodeRecord(m.record), al: tokenWire(m.token), r: m.reply });
    case "ping":
      return encodeCbor({ t: 2, n: m.nonce, tg: m.target.bytes, rl: m.relayed, g });
    case "ack":
      return encodeCbor({ t: 3, n: m.nonce, g });
    case "ping-req":
      return encodeCbor({ t: 4, n: m.nonce, tg: m.target.bytes, a: m.addr, g });
    case "forward-ack":
      return encodeCbor({ t: 5, n: m.nonce, in: m.inner, g });
    case "nack":
      return encodeCbor({ t: 6, n: m.nonce, g });
    case "gossip":
      return encodeCbor({ t: 7, g });
  }
}

const id32 = bytes({ length: 32 });
const nonce = bytes({ length: PROBE_NONCE_LENGTH });
const endpoint = (value: unknown, path: string): string => {
  const text = str({ max: MAX_ENDPOINT_TEXT })(value, path);
  if (!parseEndpoint(text)) throw new SchemaError(path, "expected an IPv4 host:port");
  return text;
};
const tokenShape = object({
  id: id32,
  i: uint({ max: MAX_INCARNATION }),
  a: array(endpoint, { max: MAX_TOKEN_ADDRS }),
  s: bytes({ length: 64 }),
});

function token(value: unknown, path: string): AliveToken {
  const t = tokenShape(value, path);
  return { id: new NodeId(t.id), incarnation: t.i, addrs: t.a, sig: t.s };
}

const kindShape = object({ k: uint({ max: 2 }) });
const claimShape = object({ id: id32, i: uint({ max: MAX_INCARNATION }), by: id32 });
const aliveShape = object({ al: token });

function update(value: unknown, path: string): Update {
  const { k } = kindShape(value, path);
  if (k === 0) return { kind: "alive", token: aliveShape(value, path).al };
  const c = claimShape(value, path);
  return { kind: k === 1 ? "suspect" : "dead", id: new NodeId(c.id), incarnation: c.i, by: new NodeId(c.by) };
}

const updates = (value: unknown, path: string): Update[] =>
  value === undefined || value === null ? [] : array(update, { max: MAX_UPDATES })(value, path);

const shapes = {
  1: object({ rec: bytes({ max: 1200 }), al: token, r: bool() }),
  2: object({ n: nonce, tg: id32, rl: optional(bool()), g: updates }),
  3: object({ n: nonce, g: updates }),
  4: object({ n: nonce, tg: id32, a: endpoint, g: updates }),
  5: object({ n: nonce, in: bytes({ max: 1400 }), g: updates }),
  6: object({ n: nonce, g: updates }),
  7: object({ g: updates }),
};
const typeShape = object({ t: uint({ max: 255 }) });

function message(value: unknown, path: string): Message {
  const { t } = typeShape(value, path);
  switch (t) {
    case 1: {
      const m = shapes[1](value, path);
      let record: NodeRecord;
      try {
        record = decodeNodeRecord(m.rec);
      } catch (error) {
        throw new SchemaError("rec", (error as Error).message);
      }
      return { type: "announce", record, token: m.al, reply: m.r };
    }
    case 2: {
      const m = shapes[2](value, path);
      return { type: "ping", nonce: m.n, target: new NodeId(m.tg), relayed: m.rl ?? false, updates: m.g };
    }
    case 3: {
      const m = shapes[3](value, path);
      return { type: "ack", nonce: m.n, updates: m.g };
    }
    case 4: {
      const m = shapes[4](value, path);
      return { type: "ping-req", nonce: m.n, target: new NodeId(m.tg), addr: m.a, updates: m.g };
    }
    case 5: {
      const m = shapes[5](value, path);
      return { type: "forward-ack", nonce: m.n, inner: m.in, updates: m.g };
    }
    case 6: {
      const m = shapes[6](value, path);
      return { type: "nack", nonce: m.n, updates: m.g };
    }
    case 7:
      return { type: "gossip", updates: shapes[7](value, path).g };
    default:
      throw new SchemaError("t", `unknown message type ${t}`);
  }
}

/**
 * Decode and validate a message body. Throws `WireError` on anything
 * malformed (the node record inside an announce must also verify; alive
 * token signatures are checked by the caller, see `verifyAliveToken`).
 */
export const decodeMessage: (body: Uint8Array) => Message = messageDecoder("cluster message", message);
