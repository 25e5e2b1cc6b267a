/**
 * One WebRTC negotiation over a signaling channel: the offerer creates the
 * peer connection and its one ordered reliable data channel, sends OFFER,
 * takes ANSWER; the answerer takes OFFER and sends ANSWER; both trickle ICE
 * candidates (queued until their own description is sent, so the peer
 * never gets a candidate before the description it belongs to). Resolves
 * with the open data channel; on any failure the peer connection is closed.
 *
 * @module
 */
import { WireError } from "../wire/errors.ts";
import type { RtcDataChannel, RtcPeerConnection, RtcPeerConnectionClass } from "./webrtc-channel.ts";
import type { SignalCandidate, SignalMessage } from "./webrtc-messages.ts";

/** A message pipe to the peer for signaling (a stream over an existing connection). */
export interface SignalChannel {
  /** Send one message. */
  send(message: SignalMessage): Promise<void>;
  /** The next message; `null` once the peer closed. Rejects with `WireError` on bad input. */
  receive(): Promise<SignalMessage | null>;
  /** Close the pipe (idempotent). */
  close(): void;
}

/** Options of `negotiate`. */
export interface NegotiateOptions {
  /** The `RTCPeerConnection` class. */
  RTCPeerConnection: RtcPeerConnectionClass;
  /** STUN/TURN servers. Default none (host candidates only). */
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /** Most remote candidates taken. */
  maxCandidates: number;
  /** Ends the negotiation (deadline or caller). */
  signal: AbortSignal;
  /** Hears of the peer connection as soon as it is made (the link closes every one it made). */
  created?: (pc: RtcPeerConnection) => void;
}

/** The open data channel and its peer connection. */
export interface Negotiated {
  /** The peer connection. */
  pc: RtcPeerConnection;
  /** Its one data channel, open. */
  dc: RtcDataChannel;
}

/** The label of the one data channel. */
export const CHANNEL_LABEL = "macula";

/**
 * Run one side of the negotiation. `offer: true` is the offerer. Rejects
 * with `WireError` (the peer sent something out of order or too many
 * candidates), an `Error` saying the peer declined, or the abort reason.
 *
 * @example
 * ```ts
 * import { negotiate } from "./webrtc-negotiate.ts";
 * declare const channel: import("./webrtc-negotiate.ts").SignalChannel;
 * declare const RTCPeerConnection: import("./webrtc-channel.ts").RtcPeerConnectionClass;
 * const { dc } = await negotiate(channel, true, {
 *   RTCPeerConnection,
 *   maxCandidates: 32,
 *   signal: AbortSignal.timeout(10_000),
 * });
 * ```
 */
export async function negotiate(
  channel: SignalChannel,
  offer: boolean,
  options: NegotiateOptions,
): Promise<Negotiated> {
  const pc = new options.RTCPeerConnection({ iceServers: options.iceServers ?? [] });
  options.created?.(pc);
  let described = false;
  const held: SignalMessage[] = [];
  let sending = Promise.resolve();
  const send = (m: SignalMessage) => {
    sending = sending.then(() => channel.send(m)).catch(() => {});
  };
  pc.addEventListener("icecandidate", (event) => {
    const c = event.candidate;
    const m: SignalMessage = c?.candidate
      ? { t: "cand", c: c.candidate, m: c.sdpMid ?? undefined, i: c.sdpMLineIndex ?? undefined }
      : { t: "end" };
    if (described) send(m);
    else held.push(m);
  });
  const opened = new Promise<RtcDataChannel>((resolve, reject) => {
    const watch = (dc: RtcDataChannel) => {
      if (dc.readyState === "open") return resolve(dc);
      dc.addEventListener("open", () => resolve(dc));
      dc.addEventListener("close", () => reject(new Error("data channel closed before it opened")));
    };
    if (offer) watch(pc.createDataChannel(CHANNEL_LABEL, { ordered: true }));
    else pc.addEventListener("datachannel", (event) => event.channel && watch(event.channel));
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") reject(new Error("ICE failed: no candidate pair works"));
    });
  });
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(options.signal.reason ?? new Error("negotiation aborted"));
    if (options.signal.aborted) stop();
    else options.signal.addEventListener("abort", stop, { once: true });
  });
  const describe = async (type: "offer" | "answer") => {
    const d = type === "offer" ? await pc.createOffer() : await pc.createAnswer();
    await pc.setLocalDescription(d);
    const sdp = pc.localDescription?.sdp ?? d.sdp;
    if (!sdp) throw new Error(`no local ${type}`);
    send({ t: type, sdp });
    described = true;
    for (const m of held.splice(0)) send(m);
  };
  const receive = async () => {
    let candidates = 0;
    let first = true;
    for (;;) {
      const m = await channel.receive();
      if (m === null) return;
      if (m.t === "err") throw new Error(`the peer declined the WebRTC connection: ${m.reason}`);
      const want = offer ? "answer" : "offer";
      if (m.t === "offer" || m.t === "answer") {
        if (!first || m.t !== want) {
          throw new WireError(
            "E_WIRE_INVALID",
            "webrtc signal",
            `unexpected ${m.t} (expected ${first ? want : "cand"})`,
          );
        }
        first = false;
        await pc.setRemoteDescription({ type: want, sdp: m.sdp });
        if (!offer) await describe("answer");
        continue;
      }
      if (first) throw new WireError("E_WIRE_INVALID", "webrtc signal", `expected ${want}, got ${m.t}`);
      if (m.t === "end") continue;
      const cand = m as SignalCandidate;
      if (cand.c === "") continue;
      if (++candidates > options.maxCandidates) {
        throw new WireError("E_WIRE_INVALID", "webrtc signal", `more than ${options.maxCandidates} candidates`);
      }
      try {
        await pc.addIceCandidate({ candidate: cand.c, sdpMid: cand.m ?? null, sdpMLineIndex: cand.i ?? null });
      } catch (error) {
        throw new WireError("E_WIRE_INVALID", "webrtc signal", `candidate refused: ${(error as Error).message}`);
      }
    }
  };
  try {
    if (offer) await Promise.race([describe("offer"), aborted]);
    const received = receive();
    // A peer that closes signaling after the channel opened is fine; a bad message before is not.
    const failed = received.then(() => new Promise<never>(() => {}));
    const dc = await Promise.race([opened, failed, aborted]);
    received.catch(() => {});
    return { pc, dc };
  } catch (error) {
    opened.catch(() => {});
    try {
      pc.close();
    } catch { /* closed */ }
    throw error;
  } finally {
    aborted.catch(() => {});
  }
}
