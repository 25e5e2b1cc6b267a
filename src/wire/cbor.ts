/**
 * CBOR encoding (npm:cbor-x, pure-JS entry: no permissions needed).
 *
 * Byte strings are plain CBOR byte strings (no typed-array tag); records and
 * other cbor-x extensions are off, so output is standard CBOR.
 *
 * @module
 */
import { Decoder, Encoder } from "cbor-x/index-no-eval";
import { plain } from "../util/bytes.ts";
import { WireError } from "./errors.ts";

const options = {
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
} as const;
const encoder = new Encoder(options);
const decoder = new Decoder(options);

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
  return plain(encoder.encode(value));
}

/**
 * Decode exactly one CBOR item; throws `WireError` (`E_WIRE_MALFORMED`) on
 * malformed input or trailing bytes. The result is untyped: validate it.
 */
export function decodeCbor(bytes: Uint8Array, messageType: string): unknown {
  if (bytes[0] === 0xff) {
    // cbor-x returns an internal sentinel for a lone "break" code.
    throw new WireError("E_WIRE_MALFORMED", messageType, "unexpected break code");
  }
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new WireError("E_WIRE_MALFORMED", messageType, (error as Error).message ?? String(error), {
      cause: error,
    });
  }
}
