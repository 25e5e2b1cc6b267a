/**
 * WebRTC for nodes: `npm:node-datachannel@0.33.4`'s W3C polyfill (libdatachannel
 * over FFI, so Deno needs `--allow-ffi`; prebuilt for x86_64 and aarch64, not
 * armv7). Loaded by dynamic import only when asked, so nodes without WebRTC
 * (and browser bundles, which use the native `RTCPeerConnection`) never load
 * it. Its threads keep the process alive until `cleanup()`: every `load`
 * returns a `release` and the last release cleans up.
 *
 * @module
 */

/** node-datachannel's `RTCPeerConnection` class and how to let go of it. */
export interface NodeWebRtc {
  /** The W3C `RTCPeerConnection` class (structurally typed by the transport). */
  RTCPeerConnection: unknown;
  /** Release this user; the last one stops node-datachannel's threads. Idempotent. */
  release(): void;
}

let users = 0;
let cleanup: (() => void) | undefined;

/**
 * Load node-datachannel. Rejects when it cannot load (no FFI permission, no
 * prebuild for this machine).
 *
 * @example
 * ```ts
 * import { loadNodeWebRtc } from "./webrtc.ts";
 * const rtc = await loadNodeWebRtc().catch(() => undefined);
 * rtc?.release();
 * ```
 */
export async function loadNodeWebRtc(): Promise<NodeWebRtc> {
  const polyfill = await import("npm:node-datachannel@0.33.4/polyfill");
  const lib = await import("npm:node-datachannel@0.33.4");
  cleanup = lib.cleanup;
  users++;
  let released = false;
  return {
    RTCPeerConnection: polyfill.RTCPeerConnection,
    release() {
      if (released) return;
      released = true;
      // Synchronously: a test (or a worker) may end right after, and
      // node-datachannel's threads must not outlive the isolate.
      if (--users === 0) cleanup?.();
    },
  };
}
