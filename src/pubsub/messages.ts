/**
 * Frames of `/macula/pubsub/2`. Each node keeps one stream to each peer it
 * sends to; frames on it are, in order:
 *
 * - `{ t: "msg", r, o, e, s, tp, d, f?, g? }`: a message in realm `r` from
 *   origin `o` (32-byte id), publisher epoch `e`, sequence `s`, topic `tp`,
 *   payload `d`; `f` lists nodes the receiver must forward to (bounded
 *   fan-out) and `g` is the origin's signature, required whenever the
 *   sender is not the origin.
 * - `{ t: "subs", r, p }`: the sender's current subscription patterns in
 *   realm `r` (neighbour announcement; replaces the previous list).
 *
 * The receiver answers on the same stream with `{ a: n }` acknowledgements
 * (`acks.ts`): n more frames were handled. Version 1 had none.
 *
 * @module
 */
import { any, array, bytes, literal, object, optional, str, uint } from "../wire/schema.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { MAX_TOPIC_LENGTH } from "./topic.ts";

/** Protocol id. */
export const PUBSUB_PROTOCOL = "/macula/pubsub/2";
/** Most forwarding targets in one frame. */
export const MAX_FORWARD = 1024;
/** Most patterns announced per realm. */
export const MAX_PATTERNS = 256;

/** Validates a pubsub frame. */
export const validatePubSubFrame = object({
  t: literal("msg", "subs"),
  r: str({ max: 64, min: 1 }),
  o: optional(bytes({ length: 32 })),
  e: optional(uint()),
  s: optional(uint()),
  tp: optional(str({ max: MAX_TOPIC_LENGTH, min: 1 })),
  d: any(),
  f: optional(array(bytes({ length: 32 }), { max: MAX_FORWARD })),
  g: optional(bytes({ length: 64 })),
  p: optional(array(str({ max: MAX_TOPIC_LENGTH, min: 1 }), { max: MAX_PATTERNS })),
});

/** A decoded frame. */
export type PubSubFrame = ReturnType<typeof validatePubSubFrame>;

/** Signature domain of forwarded messages (`ServiceHost.sign`). */
export const MESSAGE_DOMAIN = "pubsub/message";

/** The bytes an origin signs (in `MESSAGE_DOMAIN`) for a forwarded message. */
export function messageSignedBytes(
  realm: string,
  origin: Uint8Array,
  epoch: number,
  seq: number,
  topic: string,
  payload: unknown,
): Uint8Array {
  return encodeCbor(["macula-pubsub-msg/1", realm, origin, epoch, seq, topic, payload === undefined ? null : payload]);
}
