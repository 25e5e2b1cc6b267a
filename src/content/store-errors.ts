/**
 * The typed error of content-store I/O.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/**
 * A content store could not read or write its files, or was used out of
 * order (a second writer for one entry, completing with groups missing).
 * The message is one line and names the path or the content id.
 */
export class ContentStoreError extends MaculaError {
  /** `path` is the file involved, where there is one; `cause` the runtime's error. */
  constructor(message: string, readonly path?: string, options?: ErrorOptions) {
    super("E_CONTENT_STORE", message, options);
  }
}

/** A one-line description of an unknown thrown value. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}
