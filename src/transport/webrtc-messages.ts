/**
 * Messages of `/macula/webrtc/1`, the WebRTC signaling protocol. It runs on
 * one stream over whatever connection already joins the two peers (usually
 * relayed through gateways); the side that wants the WebRTC connection opens
 * the stream and offers:
 *
 * ```
 * offerer                                 answerer
 *   OFFER  {t:"offer", sdp}           ->
 *                                     <-  ANSWER {t:"answer", sdp}
 *   CAND   {t:"cand", c, m?, i?}      <->  CAND (trickle ICE, any number up to the limit)
 *   END    {t:"end"}                  <->  END (no more candidates)
 *                                     <-  ERR {t:"err", reason} (declined: busy, disabled)
 * ```
 *
 * Every message is one length-prefixed CBOR frame of at most 16 KiB (an SDP
 * is a few KiB). Candidates are the W3C `RTCIceCandidateInit` fields
 * (`c` candidate line, `m` sdpMid, `i` sdpMLineIndex).
 *
 * @module
 */
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { literal, messageDecoder, object, optional, str, uint } from "../wire/schema.ts";

/** Protocol id of WebRTC signaling. */
export const WEBRTC_PROTOCOL = "/macula/webrtc/1";

/** Largest frame of the protocol, bytes. */
export const MAX_SIGNAL_FRAME = 16 * 1024;

/** Longest SDP accepted, characters. */
export const MAX_SDP = 12 * 1024;

/** Longest candidate line accepted, characters. */
export const MAX_CANDIDATE = 1024;

/** OFFER or ANSWER: a session description. */
export interface SignalDescription {
  /** Message type. */
  t: "offer" | "answer";
  /** The SDP text. */
  sdp: string;
}

/** CAND: one ICE candidate (W3C `RTCIceCandidateInit`). */
export interface SignalCandidate {
  /** Message type. */
  t: "cand";
  /** The candidate line (`candidate:…`); empty marks the end of a generation. */
  c: string;
  /** `sdpMid`, when known. */
  m?: string;
  /** `sdpMLineIndex`, when known. */
  i?: number;
}

/** END: no more candidates from the sender. */
export interface SignalEnd {
  /** Message type. */
  t: "end";
}

/** ERR: the answerer declines (and says why). */
export interface SignalRefusal {
  /** Message type. */
  t: "err";
  /** Why: `busy` (too many pending), `disabled` (no WebRTC here), `failed`. */
  reason: "busy" | "disabled" | "failed";
}

/** Any message of the protocol. */
export type SignalMessage = SignalDescription | SignalCandidate | SignalEnd | SignalRefusal;

const decodeRaw = messageDecoder(
  "webrtc signal",
  object({
    t: literal("offer", "answer", "cand", "end", "err"),
    sdp: optional(str({ max: MAX_SDP, min: 1 })),
    c: optional(str({ max: MAX_CANDIDATE })),
    m: optional(str({ max: 64 })),
    i: optional(uint({ max: 255 })),
    reason: optional(literal<SignalRefusal["reason"]>("busy", "disabled", "failed")),
  }),
);

function need<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new WireError("E_WIRE_INVALID", "webrtc signal", `missing field ${field}`);
  return value;
}

/**
 * Decode and check one signaling message. Throws `WireError` for anything
 * malformed: bad CBOR, an unknown type, a missing, oversized or
 * out-of-range field, an SDP that does not start with `v=0`, or a candidate
 * line that is not `candidate:…`.
 *
 * @example
 * ```ts
 * import { decodeSignal, encodeSignal } from "./webrtc-messages.ts";
 * decodeSignal(encodeSignal({ t: "end" })); // { t: "end" }
 * ```
 */
export function decodeSignal(input: Uint8Array): SignalMessage {
  if (input.length > MAX_SIGNAL_FRAME) {
    throw new WireError("E_WIRE_OVERSIZED", "webrtc signal", `${input.length} bytes is over ${MAX_SIGNAL_FRAME}`);
  }
  const m = decodeRaw(input);
  switch (m.t) {
    case "offer":
    case "answer": {
      const sdp = need(m.sdp, "sdp");
      if (!sdp.startsWith("v=0")) throw new WireError("E_WIRE_INVALID", "webrtc signal", "sdp does not start with v=0");
      return { t: m.t, sdp };
    }
    case "cand": {
      const c = need(m.c, "c");
      if (c !== "" && !c.startsWith("candidate:") && !c.startsWith("a=candidate:")) {
        throw new WireError("E_WIRE_INVALID", "webrtc signal", "candidate line does not start with candidate:");
      }
      const out: SignalCandidate = { t: "cand", c };
      if (m.m !== undefined) out.m = m.m;
      if (m.i !== undefined) out.i = m.i;
      return out;
    }
    case "end":
      return { t: "end" };
    default:
      return { t: "err", reason: need(m.reason, "reason") };
  }
}

/**
 * Encode one signaling message (the wire form of `decodeSignal`).
 *
 * @example
 * ```ts
 * import { encodeSignal } from "./webrtc-messages.ts";
 * encodeSignal({ t: "cand", c: "candidate:1 1 UDP 2122317823 192.0.2.4 50000 typ host", m: "0", i: 0 });
 * ```
 */
export function encodeSignal(message: SignalMessage): Uint8Array {
  switch (message.t) {
    case "offer":
    case "answer":
      return encodeCbor({ t: message.t, sdp: message.sdp });
    case "cand": {
      const out: Record<string, unknown> = { t: "cand", c: message.c };
      if (message.m !== undefined) out.m = message.m;
      if (message.i !== undefined) out.i = message.i;
      return encodeCbor(out);
    }
    case "end":
      return encodeCbor({ t: "end" });
    default:
      return encodeCbor({ t: "err", reason: message.reason });
  }
}
