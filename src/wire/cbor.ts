/**
 * CBOR encoding: our own codec (`cbor-encode.ts`, `cbor-decode.ts`), no
 * dependency, no permissions. Its output is the standard CBOR that Macula
 * has always written (byte strings untagged, maps in preferred
 * serialization, no records or packing).
 *
 * @module
 */
import { decode } from "./cbor-decode.ts";
import { encode } from "./cbor-encode.ts";
import { WireError } from "./errors.ts";

export { CborTag } from "./cbor-encode.ts";

/**
 * Encode a value as CBOR.
 *
 * @example
 * ```ts
 * import { decodeCbor, encodeCbor } from "./cbor.ts";
 * decodeCbor(encodeCbor({ a: 1 }), "example"); // { a: 1 }
 * ```
 */
export function encodeCbor(value: unknown): Uint8Array {
  return encode(value);
}

/**
 * Decode exactly one CBOR item; throws `WireError` (`E_WIRE_MALFORMED`) on
 * malformed input or trailing bytes. The result is untyped: validate it.
 */
export function decodeCbor(bytes: Uint8Array, messageType: string): unknown {
  try {
    return decode(bytes);
  } catch (error) {
    throw new WireError("E_WIRE_MALFORMED", messageType, (error as Error).message ?? String(error), {
      cause: error,
    });
  }
}
