/**
 * Messages of `/macula/dht/1` (carried by the request channel).
 *
 * Requests: `{ t, realm, key?, rec? }` with `t` one of `ping`, `find_node`,
 * `get_providers`, `add_provider`, `get_value`, `put_value`. Replies:
 * `{ ok?, peers?, providers?, value? }`; every record travels in its own
 * signed wire form and is verified by the receiver.
 *
 * @module
 */
import { array, bool, bytes, literal, object, optional, str } from "../wire/schema.ts";
import { KEY_BYTES } from "./keys.ts";

/** Protocol id. */
export const DHT_PROTOCOL = "/macula/dht/1";

/** Most peers in one reply. */
export const MAX_REPLY_PEERS = 20;
/** Most providers in one reply. */
export const MAX_REPLY_PROVIDERS = 64;

/** Validates a request body. */
export const validateDhtRequest = object({
  t: literal("ping", "find_node", "get_providers", "add_provider", "get_value", "put_value"),
  realm: str({ max: 64, min: 1 }),
  key: optional(bytes({ length: KEY_BYTES })),
  rec: optional(bytes({ max: 16 * 1024 })),
});

/** A request body. */
export type DhtRequest = ReturnType<typeof validateDhtRequest>;

/** Validates a reply body. */
export const validateDhtReply = object({
  ok: optional(bool()),
  peers: optional(array(bytes({ max: 8192 }), { max: MAX_REPLY_PEERS })),
  providers: optional(array(bytes({ max: 16 * 1024 }), { max: MAX_REPLY_PROVIDERS })),
  value: optional(bytes({ max: 16 * 1024 })),
});

/** A reply body. */
export type DhtReply = ReturnType<typeof validateDhtReply>;
