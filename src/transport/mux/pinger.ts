/**
 * The muxer's PINGs: round-trip time measurement (a smoothed estimate that
 * also drives window auto-tuning) and the optional keep-alive that closes a
 * connection whose peer stops answering.
 *
 * @module
 */
import { deferred, TimeoutError } from "../../util/async.ts";
import { ConnectionClosedError } from "../errors.ts";
import { Flag, FrameType } from "./frame.ts";
import type { FrameWriter } from "./writer.ts";

interface PendingPing {
  sentAt: number;
  done: ReturnType<typeof deferred<number>> | null;
}

/**
 * Sends PING frames through a `FrameWriter`, matches the peer's answers
 * (`pong`) and keeps the smoothed RTT. With `keepAliveMs` > 0 it pings on
 * that interval and calls `onTimeout` once three intervals pass without an
 * answer. A fresh `Pinger` sends one PING at once to seed the RTT estimate.
 *
 * @example
 * ```ts
 * import { Pinger } from "./pinger.ts";
 * import type { FrameWriter } from "./writer.ts";
 * declare const writer: FrameWriter;
 * const pinger = new Pinger(writer, 15_000, (error) => console.error(error));
 * // for each PING frame with ACK from the peer: pinger.pong(frame.length);
 * const rtt = await pinger.ping();
 * pinger.stop("closed");
 * ```
 */
export class Pinger {
  readonly #writer: FrameWriter;
  readonly #keepAliveMs: number;
  readonly #onTimeout: (error: TimeoutError) => void;
  #rtt = 0;
  #pings = new Map<number, PendingPing>();
  #nextPing = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #keepAlivePing: number | null = null;
  #keepAliveMissed = 0;
  #stopped = false;

  /** Start the keep-alive (unless `keepAliveMs` is 0) and send the seeding PING. */
  constructor(writer: FrameWriter, keepAliveMs: number, onTimeout: (error: TimeoutError) => void) {
    this.#writer = writer;
    this.#keepAliveMs = keepAliveMs;
    this.#onTimeout = onTimeout;
    if (keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => this.#keepAliveTick(), keepAliveMs);
    }
    this.#send(null); // seeds the RTT estimate used by window auto-tuning
  }

  /** Smoothed round-trip time in ms; 0 until measured. */
  get rtt(): number {
    return this.#rtt;
  }

  /** Send a PING; resolves with its round-trip time in ms, rejects if stopped first. */
  ping(): Promise<number> {
    const done = deferred<number>();
    this.#send(done);
    return done.promise;
  }

  /** The peer answered the PING carrying `value`. Unknown or late answers are ignored. */
  pong(value: number): void {
    const ping = this.#pings.get(value);
    if (!ping) return; // unknown or late answer: harmless
    this.#pings.delete(value);
    const rtt = performance.now() - ping.sentAt;
    this.sampleRtt(rtt);
    if (value === this.#keepAlivePing) {
      this.#keepAlivePing = null;
      this.#keepAliveMissed = 0;
    }
    ping.done?.resolve(rtt);
  }

  /** Fold one round-trip measurement (e.g. from a stream's SYN/ACK) into the estimate. */
  sampleRtt(sample: number): void {
    this.#rtt = this.#rtt === 0 ? sample : this.#rtt * 0.875 + sample * 0.125;
  }

  /** Stop the keep-alive and reject unanswered `ping()`s with `ConnectionClosedError`. */
  stop(reason: string): void {
    this.#stopped = true;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    for (const ping of this.#pings.values()) {
      ping.done?.reject(
        new ConnectionClosedError(`muxer closed: ${reason}`),
      );
    }
    this.#pings.clear();
  }

  #send(done: PendingPing["done"]): number {
    const value = this.#nextPing;
    this.#nextPing = (this.#nextPing + 1) >>> 0;
    this.#pings.set(value, { sentAt: performance.now(), done });
    this.#writer.control(FrameType.Ping, Flag.SYN, 0, value);
    return value;
  }

  #keepAliveTick(): void {
    if (this.#stopped) return;
    if (this.#keepAlivePing !== null) {
      this.#keepAliveMissed++;
      if (this.#keepAliveMissed >= 3) {
        const error = new TimeoutError(
          `keep-alive ping unanswered for ${3 * this.#keepAliveMs} ms`,
        );
        this.#onTimeout(error);
      }
      return;
    }
    this.#keepAlivePing = this.#send(null);
  }
}
