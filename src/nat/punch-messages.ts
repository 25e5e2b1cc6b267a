/**
 * Messages of `/macula/punch/1`, the hole-punch coordination protocol. It
 * runs on one stream over an existing (usually relayed) connection; the
 * side that dialed that connection opens the stream (the initiator):
 *
 * ```
 * initiator                                  responder
 *   CONNECT {t:"connect", addrs, nat, n}  ->
 *                                         <-  CONNECT {t:"connect", addrs, nat, n}
 *                                             or SKIP {t:"skip", reason}
 *   SYNC {t:"sync", n}                    ->
 *   (waits RTT/2, dials)                      (dials at once)
 * ```
 *
 * `addrs` are candidate UDP addresses of the sender's punch endpoint, most
 * likely first (`{h: IP literal, p: port}`, at most 8), `nat` the sender's
 * NAT mapping as far as it knows it, `n` the attempt number (1-3). Every
 * message is one length-prefixed CBOR frame of at most 1 KiB.
 *
 * @module
 */
import type { SocketAddress } from "../platform/types.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import type { MappingType } from "./mapping.ts";
import { array, literal, messageDecoder, object, optional, str, uint } from "../wire/schema.ts";

/** Protocol id. */
export const PUNCH_PROTOCOL = "/macula/punch/1";

/** Largest frame of the protocol, bytes. */
export const MAX_PUNCH_FRAME = 1024;

/** Most candidate addresses in one CONNECT. */
export const MAX_CANDIDATES = 8;

/** Most attempts of one round (the attempt number is at most this). */
export const MAX_ATTEMPTS = 3;

/** Why a responder declines an attempt. */
export type SkipReason = "both-endpoint-dependent" | "no-quic" | "busy" | "already-direct";

/** IPv4 or IPv6 literal characters only (no names: nothing to resolve). */
const IP_PATTERN = /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:.]{2,45})$/;

const candidate = object({
  h: str({ min: 2, max: 45, pattern: IP_PATTERN }),
  p: uint({ max: 65535 }),
});

const natMapping = literal<MappingType>("endpoint-independent", "endpoint-dependent", "unknown");

/** CONNECT: candidate addresses and what the sender knows of its NAT. */
export interface PunchConnect {
  /** Message type. */
  t: "connect";
  /** Candidate addresses of the sender's punch endpoint, most likely first. */
  addrs: SocketAddress[];
  /** The sender's NAT mapping (`endpoint-independent`, `endpoint-dependent` or `unknown`). */
  nat: MappingType;
  /** Attempt number, 1-based. */
  n: number;
}

/** SKIP: the responder declines (and says why). */
export interface PunchSkip {
  /** Message type. */
  t: "skip";
  /** Why. */
  reason: SkipReason;
}

/** SYNC: the initiator dials RTT/2 after sending it; the responder dials on receipt. */
export interface PunchSync {
  /** Message type. */
  t: "sync";
  /** Attempt number, as in CONNECT. */
  n: number;
}

/** Any message of the protocol. */
export type PunchMessage = PunchConnect | PunchSkip | PunchSync;

const decodeRaw = messageDecoder(
  "punch",
  object({
    t: literal("connect", "skip", "sync"),
    addrs: optional(array(candidate, { max: MAX_CANDIDATES })),
    nat: optional(natMapping),
    n: optional(uint({ max: MAX_ATTEMPTS })),
    reason: optional(literal<SkipReason>("both-endpoint-dependent", "no-quic", "busy", "already-direct")),
  }),
);

function need<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new WireError("E_WIRE_INVALID", "punch", `missing field ${field}`);
  return value;
}

/**
 * Decode and check one punch message. Throws `WireError` for anything
 * malformed: bad CBOR, unknown type, a missing or out-of-range field, a
 * port 0 or a host that is no IP literal.
 *
 * @example
 * ```ts
 * import { decodePunch, encodePunch } from "./punch-messages.ts";
 * const bytes = encodePunch({ t: "sync", n: 1 });
 * decodePunch(bytes); // { t: "sync", n: 1 }
 * ```
 */
export function decodePunch(input: Uint8Array): PunchMessage {
  if (input.length > MAX_PUNCH_FRAME) {
    throw new WireError("E_WIRE_OVERSIZED", "punch", `${input.length} bytes is over ${MAX_PUNCH_FRAME}`);
  }
  const m = decodeRaw(input);
  switch (m.t) {
    case "connect": {
      const addrs = need(m.addrs, "addrs").map((a) => {
        if (a.p === 0) throw new WireError("E_WIRE_INVALID", "punch", "candidate port 0");
        return { hostname: a.h, port: a.p };
      });
      const n = need(m.n, "n");
      if (n < 1) throw new WireError("E_WIRE_INVALID", "punch", "attempt number 0");
      return { t: "connect", addrs, nat: need(m.nat, "nat"), n };
    }
    case "skip":
      return { t: "skip", reason: need(m.reason, "reason") };
    default: {
      const n = need(m.n, "n");
      if (n < 1) throw new WireError("E_WIRE_INVALID", "punch", "attempt number 0");
      return { t: "sync", n };
    }
  }
}

/**
 * Encode one punch message (the wire form of `decodePunch`).
 *
 * @example
 * ```ts
 * import { encodePunch } from "./punch-messages.ts";
 * encodePunch({ t: "connect", addrs: [{ hostname: "203.0.113.7", port: 40123 }], nat: "unknown", n: 1 });
 * ```
 */
export function encodePunch(message: PunchMessage): Uint8Array {
  switch (message.t) {
    case "connect":
      return encodeCbor({
        t: "connect",
        addrs: message.addrs.slice(0, MAX_CANDIDATES).map((a) => ({ h: a.hostname, p: a.port })),
        nat: message.nat,
        n: message.n,
      });
    case "skip":
      return encodeCbor({ t: "skip", reason: message.reason });
    default:
      return encodeCbor({ t: "sync", n: message.n });
  }
}
