/**
 * Wire forms of rings.
 *
 * Presence, published on the ring's pub/sub topic (`_ring.<name>` in the
 * ring's realm) every `presenceInterval` while a member is in the ring:
 * `{v: 1, t: "here" | "bye", rec}`, `rec` the member's signed node record
 * (so that members learn each other's addresses — usually relayed ones
 * through gateways — and can signal a WebRTC connection), at most 4 KiB.
 *
 * Ring messages run on `/macula/ring/1` streams, only over WebRTC
 * connections: the sender opens one stream per ring and member, writes a
 * HELLO frame `{ring, realm}`, then one frame per message (the bytes as
 * they are, at most 64 KiB).
 *
 * @module
 */
import { decodeNodeRecord, encodeNodeRecord, type NodeRecord } from "../identity/node-record.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { bytes, literal, messageDecoder, object, str, uint } from "../wire/schema.ts";
import { RingError } from "./errors.ts";

/** Protocol of ring message streams. */
export const RING_PROTOCOL = "/macula/ring/1";

/** Largest ring message, bytes. */
export const MAX_RING_MESSAGE = 64 * 1024;

/** Largest presence or HELLO, bytes. */
export const MAX_PRESENCE = 4096;

const NAME = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/;

/**
 * Check a ring name: 1-4 dot-separated segments of `A-Z a-z 0-9 _ -`
 * (each 1-64). Returns it, or throws `RingError` (`E_RING_NAME`).
 *
 * @example
 * ```ts
 * import { validateRingName } from "./messages.ts";
 * validateRingName("design-review"); // "design-review"
 * ```
 */
export function validateRingName(name: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new RingError(
      "E_RING_NAME",
      `invalid ring name ${JSON.stringify(name)}: 1-4 dot-separated segments of A-Z a-z 0-9 _ - (1-64 each)`,
    );
  }
  return name;
}

/** The prefix of rings' pub/sub topics: ring `name` announces presence on `_ring.<name>`. */
export const RING_TOPIC_PREFIX = "_ring.";

/** The pub/sub topic of ring `name`. */
export function ringTopic(name: string): string {
  return `${RING_TOPIC_PREFIX}${name}`;
}

/** A presence announcement. */
export interface Presence {
  /** `here` (in the ring) or `bye` (left). */
  t: "here" | "bye";
  /** The member's signed node record (verified when decoded). */
  record: NodeRecord;
}

const decodePresenceRaw = messageDecoder(
  "ring presence",
  object({ v: uint({ max: 1 }), t: literal("here", "bye"), rec: bytes({ max: MAX_PRESENCE }) }),
);

/**
 * Encode a presence announcement.
 *
 * @example
 * ```ts
 * import { encodePresence } from "./messages.ts";
 * declare const record: import("../identity/node-record.ts").NodeRecord;
 * encodePresence({ t: "here", record });
 * ```
 */
export function encodePresence(p: Presence): Uint8Array {
  return encodeCbor({ v: 1, t: p.t, rec: encodeNodeRecord(p.record) });
}

/**
 * Decode and check a presence announcement: the shape, the record's
 * signature, and that the record is the publisher's. Throws `WireError`.
 *
 * @example
 * ```ts
 * import { decodePresence, encodePresence } from "./messages.ts";
 * declare const record: import("../identity/node-record.ts").NodeRecord;
 * decodePresence(encodePresence({ t: "bye", record }), record.id).t; // "bye"
 * ```
 */
export function decodePresence(input: Uint8Array, publisher: { equals(other: NodeRecord["id"]): boolean }): Presence {
  if (!(input instanceof Uint8Array)) throw new WireError("E_WIRE_INVALID", "ring presence", "expected bytes");
  if (input.length > MAX_PRESENCE + 64) {
    throw new WireError("E_WIRE_OVERSIZED", "ring presence", `${input.length} bytes is over ${MAX_PRESENCE + 64}`);
  }
  const raw = decodePresenceRaw(input);
  if (raw.v !== 1) throw new WireError("E_WIRE_INVALID", "ring presence", `unknown version ${raw.v}`);
  const record = decodeNodeRecord(raw.rec);
  if (!publisher.equals(record.id)) {
    throw new WireError("E_WIRE_INVALID", "ring presence", "the record is not the publisher's");
  }
  return { t: raw.t, record };
}

/** The first frame of a ring stream. */
export interface RingHello {
  /** The ring's name. */
  ring: string;
  /** The ring's realm. */
  realm: string;
}

const decodeHelloRaw = messageDecoder(
  "ring hello",
  object({ ring: str({ max: 259, min: 1 }), realm: str({ max: 200, min: 1 }) }),
);

/**
 * Encode a HELLO.
 *
 * @example
 * ```ts
 * import { encodeHello } from "./messages.ts";
 * encodeHello({ ring: "standup", realm: "default" });
 * ```
 */
export function encodeHello(h: RingHello): Uint8Array {
  return encodeCbor({ ring: h.ring, realm: h.realm });
}

/**
 * Decode and check a HELLO (a valid ring name). Throws `WireError`.
 *
 * @example
 * ```ts
 * import { decodeHello, encodeHello } from "./messages.ts";
 * decodeHello(encodeHello({ ring: "standup", realm: "default" })).ring; // "standup"
 * ```
 */
export function decodeHello(input: Uint8Array): RingHello {
  const h = decodeHelloRaw(input);
  if (!NAME.test(h.ring)) throw new WireError("E_WIRE_INVALID", "ring hello", "bad ring name");
  return { ring: h.ring, realm: h.realm };
}
