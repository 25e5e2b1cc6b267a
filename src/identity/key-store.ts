/**
 * Loads the node's identity key from the data directory, creating it on
 * first start. The file is written atomically with mode 0600. A corrupt or
 * unreadable key file is an error, never silently replaced: replacing it
 * would change the node's identity.
 *
 * File format (JSON): `{ "version": 1, "type": "ed25519", "seed": "<base64>",
 * "did": "did:key:…" }`. The `did` is checked against the key on load.
 *
 * @module
 */
import type { FsApi } from "../platform/types.ts";
import { fromBase64, fromUtf8, toBase64, utf8 } from "../util/bytes.ts";
import { MaculaError } from "../util/errors.ts";
import { encodeDidKey } from "./did.ts";
import { KeyPair, SEED_LENGTH } from "./ed25519.ts";

/** Name of the key file inside the data directory. */
export const KEY_FILE = "identity.key";

/** The key file is missing permissions, corrupt, or otherwise unusable. */
export class IdentityError extends MaculaError {
  /** `message` names the key file and what is wrong with it. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_IDENTITY", message, options);
  }
}

/** Result of loading an identity. */
export interface LoadedIdentity {
  keyPair: KeyPair;
  /** True if the key was created by this call. */
  created: boolean;
  /** Absolute path of the key file. */
  path: string;
  /** Set when the file is readable by group or others. */
  warning?: string;
}

function parse(bytes: Uint8Array, path: string): KeyPair {
  let doc: unknown;
  try {
    doc = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new IdentityError(
      `identity file ${path} is corrupt (not valid JSON); restore it from a backup, or move it away to create a new identity`,
    );
  }
  const d = doc as Record<string, unknown>;
  if (typeof d !== "object" || d === null || d.version !== 1 || d.type !== "ed25519" || typeof d.seed !== "string") {
    throw new IdentityError(`identity file ${path} is not a version 1 ed25519 key file`);
  }
  let seed: Uint8Array;
  try {
    seed = fromBase64(d.seed);
  } catch {
    throw new IdentityError(`identity file ${path} is corrupt (seed is not base64)`);
  }
  if (seed.length !== SEED_LENGTH) {
    throw new IdentityError(`identity file ${path} is corrupt (seed is ${seed.length} bytes, expected ${SEED_LENGTH})`);
  }
  const keyPair = KeyPair.fromSeed(seed);
  if (typeof d.did === "string" && d.did !== encodeDidKey(keyPair.publicKey)) {
    throw new IdentityError(`identity file ${path} is corrupt (its did does not match its key)`);
  }
  return keyPair;
}

function serialise(keyPair: KeyPair): Uint8Array {
  return utf8(
    JSON.stringify({
      version: 1,
      type: "ed25519",
      seed: toBase64(keyPair.exportSeed()),
      did: encodeDidKey(keyPair.publicKey),
    }) + "\n",
  );
}

/**
 * Load the identity from `dataDir`, creating the directory (0700) and a new
 * key (0600) if there is none.
 *
 * @example
 * ```ts
 * import { loadOrCreateIdentity } from "./key-store.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const { keyPair, created } = await loadOrCreateIdentity(currentPlatform().fs, ".macula");
 * ```
 */
export async function loadOrCreateIdentity(fs: FsApi, dataDir: string): Promise<LoadedIdentity> {
  const dir = fs.resolve(dataDir);
  const path = fs.join(dir, KEY_FILE);
  let bytes: Uint8Array | null;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    throw new IdentityError(`cannot read identity file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (bytes !== null) {
    const keyPair = parse(bytes, path);
    const mode = await fs.fileMode(path).catch(() => null);
    const warning = mode !== null && (mode & 0o077) !== 0
      ? `identity file ${path} is readable by others (mode ${mode.toString(8)}); run chmod 600 on it`
      : undefined;
    return { keyPair, created: false, path, warning };
  }
  const keyPair = KeyPair.generate();
  try {
    await fs.mkdir(dir, 0o700);
    await fs.writeFileAtomic(path, serialise(keyPair), 0o600);
  } catch (error) {
    throw new IdentityError(`cannot create identity file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { keyPair, created: true, path };
}
