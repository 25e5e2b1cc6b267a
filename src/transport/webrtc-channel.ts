/**
 * The slice of the W3C WebRTC API the WebRTC link uses (so it type-checks
 * without DOM types, and runs on a browser's native classes as on
 * `npm:node-datachannel/polyfill`), and the raw byte duplex over one
 * ordered reliable `RTCDataChannel` that the Noise XX + mux session runs
 * on: each write becomes data-channel messages of at most 16 KiB, writes
 * wait while more than 1 MiB is buffered (resumed by `bufferedamountlow`),
 * each received message is one read.
 *
 * @module
 */
import type { RawDuplex } from "../secure/secure-channel.ts";

/** `RTCIceCandidateInit`. */
export interface RtcCandidateInit {
  /** The candidate line. */
  candidate?: string;
  /** The media stream id. */
  sdpMid?: string | null;
  /** The m-line index. */
  sdpMLineIndex?: number | null;
}

/** `RTCSessionDescriptionInit`. */
export interface RtcDescriptionInit {
  /** `"offer"` or `"answer"` (others are not used). */
  type: string;
  /** The SDP text. */
  sdp?: string;
}

/** The part of `RTCDataChannel` used. */
export interface RtcDataChannel {
  /** `"connecting"`, `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: string;
  /** Bytes queued to send. */
  readonly bufferedAmount: number;
  /** When `bufferedAmount` falls to this, `bufferedamountlow` fires. */
  bufferedAmountLowThreshold: number;
  /** Set to `"arraybuffer"`. */
  binaryType: string;
  /** Send one message. */
  send(data: Uint8Array): void;
  /** Close the channel. */
  close(): void;
  /** Events: `open`, `message`, `close`, `error`, `bufferedamountlow`. */
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
}

/** The part of `RTCPeerConnection` used. */
export interface RtcPeerConnection {
  /** `"new"`, `"connecting"`, `"connected"`, `"disconnected"`, `"failed"` or `"closed"`. */
  readonly connectionState: string;
  /** The local description, once set. */
  readonly localDescription: RtcDescriptionInit | null;
  /** Make an offer. */
  createOffer(): Promise<RtcDescriptionInit>;
  /** Make an answer. */
  createAnswer(): Promise<RtcDescriptionInit>;
  /** Set the local description. */
  setLocalDescription(description: RtcDescriptionInit): Promise<void>;
  /** Set the remote description. */
  setRemoteDescription(description: RtcDescriptionInit): Promise<void>;
  /** Add a remote ICE candidate. */
  addIceCandidate(candidate: RtcCandidateInit): Promise<void>;
  /** Open a data channel. */
  createDataChannel(label: string, init?: { ordered?: boolean }): RtcDataChannel;
  /** Close the connection. */
  close(): void;
  /** Events: `icecandidate`, `datachannel`, `connectionstatechange`. */
  addEventListener(
    type: string,
    listener: (event: { candidate?: RtcCandidateInit | null; channel?: RtcDataChannel }) => void,
  ): void;
}

/** The `RTCPeerConnection` class (a browser's global, or node-datachannel's polyfill). */
export type RtcPeerConnectionClass = new (config?: {
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
}) => RtcPeerConnection;

/** Largest data-channel message we send, bytes (every implementation takes 16 KiB). */
export const MAX_CHANNEL_MESSAGE = 16 * 1024;
/** Writes wait while more than this is buffered, bytes. */
export const HIGH_WATER = 1024 * 1024;
/** …until it falls to this. */
export const LOW_WATER = 256 * 1024;

/**
 * A raw duplex over an open data channel; `close()` also closes `pc`
 * (one channel per peer connection).
 *
 * @example
 * ```ts
 * import { channelDuplex } from "./webrtc-channel.ts";
 * declare const pc: import("./webrtc-channel.ts").RtcPeerConnection;
 * declare const dc: import("./webrtc-channel.ts").RtcDataChannel;
 * const pipe = channelDuplex(dc, pc);
 * await pipe.write(new Uint8Array([1, 2, 3]));
 * ```
 */
export function channelDuplex(dc: RtcDataChannel, pc: RtcPeerConnection): RawDuplex {
  dc.binaryType = "arraybuffer";
  dc.bufferedAmountLowThreshold = LOW_WATER;
  const queue: Uint8Array[] = [];
  let reader: ((chunk: Uint8Array | null) => void) | null = null;
  let drained: (() => void) | null = null;
  let closed = false;
  const end = () => {
    if (closed) return;
    closed = true;
    reader?.(null);
    reader = null;
    drained?.();
    drained = null;
    // Closing the peer connection closes its channel (node-datachannel's
    // RTCDataChannel.close() defers to a later tick, which may then run
    // after the library was cleaned up).
    try {
      pc.close();
    } catch { /* already closed */ }
  };
  dc.addEventListener("message", (event) => {
    const data = event.data;
    if (closed || !(data instanceof ArrayBuffer)) return;
    const chunk = new Uint8Array(data);
    if (reader) {
      const r = reader;
      reader = null;
      r(chunk);
    } else queue.push(chunk);
  });
  dc.addEventListener("bufferedamountlow", () => {
    drained?.();
    drained = null;
  });
  dc.addEventListener("close", end);
  dc.addEventListener("error", end);
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed" || pc.connectionState === "closed") end();
  });
  return {
    read() {
      const next = queue.shift();
      if (next) return Promise.resolve(next);
      if (closed) return Promise.resolve(null);
      return new Promise((resolve) => reader = resolve);
    },
    async write(chunk) {
      for (let at = 0; at < chunk.length; at += MAX_CHANNEL_MESSAGE) {
        while (!closed && dc.bufferedAmount > HIGH_WATER) {
          await new Promise<void>((resolve) => drained = resolve);
        }
        if (closed || dc.readyState !== "open") throw new Error("data channel closed");
        // A copy: the caller may reuse its buffer once the write resolves.
        dc.send(chunk.slice(at, at + MAX_CHANNEL_MESSAGE));
      }
    },
    close: end,
  };
}

/**
 * The runtime's own `RTCPeerConnection` (every browser has one; Deno and
 * Node do not — use `loadNodeWebRtc` there), or `undefined`.
 *
 * @example
 * ```ts
 * import { nativeRtcPeerConnection } from "./webrtc-channel.ts";
 * const RTCPeerConnection = nativeRtcPeerConnection(); // undefined under Deno
 * ```
 */
export function nativeRtcPeerConnection(): RtcPeerConnectionClass | undefined {
  const native = (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection;
  return typeof native === "function" ? native as RtcPeerConnectionClass : undefined;
}
