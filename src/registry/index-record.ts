/**
 * How releases are found through the mesh. A publisher provides the DHT key
 * `registryKey(realm, name)` (so others find who publishes a name) and
 * stores, as its signed DHT value `registry/<name>`, an index: the content
 * ids of its release records (each record is itself content). A reader
 * finds the providers, reads each one's index, fetches the records and
 * checks each (`decodeRelease`, `verifyRelease`).
 *
 * @module
 */
import { realmKey } from "../dht/keys.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { array, literal, messageDecoder, object, str } from "../wire/schema.ts";
import { InvalidReleaseError } from "./errors.ts";

/** Most record ids one index holds (the newest are kept). */
export const MAX_INDEX_ENTRIES = 48;

/** The DHT provider key of artifact `name` in `realm`. */
export function registryKey(realm: string, name: string): Uint8Array {
  return realmKey(realm, "raw", `macula-registry/1/${name}`);
}

/** The DHT value name of a publisher's index of `name`. */
export function indexValueName(name: string): string {
  return `registry/${name}`;
}

/**
 * Encode an index: the record content ids, oldest first (only the newest
 * `MAX_INDEX_ENTRIES` are kept).
 *
 * @example
 * ```ts
 * import { decodeIndex, encodeIndex } from "./index-record.ts";
 * decodeIndex(encodeIndex(["b1", "b2"])); // ["b1", "b2"]
 * ```
 */
export function encodeIndex(records: readonly string[]): Uint8Array {
  return encodeCbor({ v: 1, r: records.slice(-MAX_INDEX_ENTRIES) });
}

const decodeShape = messageDecoder(
  "registry index",
  object({ v: literal(1), r: array(str({ min: 1, max: 128 }), { max: MAX_INDEX_ENTRIES }) }),
);

/** Decode an index; throws `InvalidReleaseError`. */
export function decodeIndex(bytes: Uint8Array): string[] {
  try {
    return decodeShape(bytes).r;
  } catch (error) {
    throw new InvalidReleaseError(`index: ${(error as Error).message}`, { cause: error });
  }
}
