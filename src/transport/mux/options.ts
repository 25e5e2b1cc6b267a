/**
 * The tunables of a `Muxer`: their defaults, and their validation into the
 * fully resolved settings the muxer runs with.
 *
 * @module
 */
import type { ByteStream } from "../stream.ts";
import { BASE_WINDOW } from "./mux-stream.ts";
import { type ConnectionBudget, MemoryBudget } from "./receive-budget.ts";

/** Tunables of a `Muxer`. */
export interface MuxerOptions {
  /** True on the side that dialed: it opens odd stream ids. */
  initiator: boolean;
  /** Concurrent inbound streams; more are answered with RST. Default 1024. */
  maxStreams?: number;
  /** Initial receive window per stream, ≥ 256 KiB. Default 256 KiB. */
  initialWindow?: number;
  /** Ceiling of the auto-tuned receive window per stream. Default 16 MiB. */
  maxWindow?: number;
  /** Keep-alive ping interval in ms; 0 (default) disables it. */
  keepAliveMs?: number;
  /** Receiver of streams the peer opens (may also be set with `onStream`). */
  onStream?: (stream: ByteStream) => void;
  /**
   * This connection's receive memory budget (from a node-wide
   * `MemoryBudget`). Default: a share of a budget of its own (16 MiB).
   */
  budget?: ConnectionBudget;
}

/** Default `maxStreams`. */
export const DEFAULT_MAX_STREAMS = 1024;
/** Default `initialWindow`: 256 KiB. */
export const DEFAULT_INITIAL_WINDOW: number = BASE_WINDOW;
/** Default `maxWindow`: 16 MiB. */
export const DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;

const U32_MAX = 0xffff_ffff;

/** `MuxerOptions` with every default applied and every value validated. */
export interface ResolvedMuxerOptions {
  /** True on the side that dialed: it opens odd stream ids. */
  initiator: boolean;
  /** Concurrent inbound streams. */
  maxStreams: number;
  /** Initial receive window per stream. */
  initialWindow: number;
  /** Ceiling of the auto-tuned receive window per stream. */
  maxWindow: number;
  /** Keep-alive ping interval in ms; 0 disables it. */
  keepAliveMs: number;
  /** This connection's receive memory budget. */
  budget: ConnectionBudget;
}

/**
 * Apply the defaults to `options` and validate them. Throws `RangeError`
 * for an invalid value.
 *
 * @example
 * ```ts
 * import { resolveMuxerOptions } from "./options.ts";
 * const resolved = resolveMuxerOptions({ initiator: true, keepAliveMs: 15_000 });
 * resolved.maxStreams; // 1024
 * ```
 */
export function resolveMuxerOptions(options: MuxerOptions): ResolvedMuxerOptions {
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
  const initialWindow = options.initialWindow ?? DEFAULT_INITIAL_WINDOW;
  const maxWindow = options.maxWindow ??
    Math.max(DEFAULT_MAX_WINDOW, initialWindow);
  const keepAliveMs = options.keepAliveMs ?? 0;
  if (!Number.isInteger(maxStreams) || maxStreams < 0) {
    throw new RangeError("maxStreams must be an integer ≥ 0");
  }
  if (
    !Number.isInteger(initialWindow) || initialWindow < BASE_WINDOW ||
    initialWindow > U32_MAX
  ) {
    throw new RangeError(
      `initialWindow must be an integer between ${BASE_WINDOW} and 2^32 - 1`,
    );
  }
  if (
    !Number.isInteger(maxWindow) || maxWindow < initialWindow ||
    maxWindow > U32_MAX
  ) {
    throw new RangeError(
      "maxWindow must be an integer between initialWindow and 2^32 - 1",
    );
  }
  if (!(keepAliveMs >= 0) || !Number.isFinite(keepAliveMs)) {
    throw new RangeError("keepAliveMs must be ≥ 0");
  }
  const budget = options.budget ?? new MemoryBudget().connection();
  return { initiator: options.initiator, maxStreams, initialWindow, maxWindow, keepAliveMs, budget };
}
