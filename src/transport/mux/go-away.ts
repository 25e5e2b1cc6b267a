/**
 * GO_AWAY handling of the muxer: which code to send when closing, what a
 * peer's code means, and the final flush (GO_AWAY, then close the duplex).
 *
 * @module
 */
import { WireError } from "../../wire/errors.ts";
import type { Duplex } from "../../wire/frame.ts";
import { ConnectionClosedError } from "../errors.ts";
import { encodeHeader, FrameType, GoAwayCode } from "./frame.ts";
import type { FrameWriter } from "./writer.ts";

/** How long closing waits for its GO_AWAY to be written before closing the duplex anyway. */
export const GO_AWAY_GRACE_MS = 1_000;

const GO_AWAY_NAMES = ["normal", "protocol error", "internal error"];

/**
 * The GO_AWAY code for closing because of `error`: "normal" without one,
 * "protocol error" for a `WireError`, "internal error" for anything else.
 *
 * @example
 * ```ts
 * import { goAwayCodeFor } from "./go-away.ts";
 * goAwayCodeFor(); // GoAwayCode.Normal
 * goAwayCodeFor(new Error("boom")); // GoAwayCode.InternalError
 * ```
 */
export function goAwayCodeFor(error?: Error): GoAwayCode {
  return error === undefined
    ? GoAwayCode.Normal
    : error instanceof WireError
    ? GoAwayCode.ProtocolError
    : GoAwayCode.InternalError;
}

/**
 * The error to report when the peer hung up after a GO_AWAY with `code`
 * (`null`: none was received), or `undefined` for none or a normal one.
 */
export function remoteGoAwayError(code: number | null): ConnectionClosedError | undefined {
  if (code === null || code === GoAwayCode.Normal) return undefined;
  return new ConnectionClosedError(`peer went away: ${GO_AWAY_NAMES[code]}`);
}

/**
 * Stop `writer` and close `duplex`. With a `goAway` code, the GO_AWAY frame
 * is written after the write in flight and the duplex is closed once it is
 * flushed, or after `GO_AWAY_GRACE_MS` at the latest; with `null`, the
 * duplex is closed at once.
 */
export function stopAndClose(writer: FrameWriter, duplex: Duplex, goAway: GoAwayCode | null): void {
  let duplexClosed = false;
  const closeDuplex = (): void => {
    if (duplexClosed) return;
    duplexClosed = true;
    try {
      duplex.close();
    } catch {
      // already closed
    }
  };
  const final = goAway === null ? undefined : encodeHeader({
    type: FrameType.GoAway,
    flags: 0,
    streamId: 0,
    length: goAway,
  });
  const flushed = writer.stop(final);
  if (final === undefined) {
    closeDuplex();
  } else {
    const timer = setTimeout(() => closeDuplex(), GO_AWAY_GRACE_MS);
    void flushed.then(() => {
      clearTimeout(timer);
      closeDuplex();
    });
  }
}
