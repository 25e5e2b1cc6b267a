/**
 * The browser peer's Ed25519 identity: generated with WebCrypto
 * (`crypto.subtle`, Ed25519, exported once as PKCS#8 to take its seed), kept
 * in IndexedDB and reloaded on the next visit, so a page keeps its `did:key`
 * across reloads. Options choose the database and key (tests use several),
 * an ephemeral identity (never stored) or a given seed.
 *
 * The stored record is `{ version: 1, type: "ed25519", seed: Uint8Array(32),
 * did }`; `decodeStoredIdentity` checks every field (the did against the
 * seed) and throws `BrowserIdentityError` (code `E_BROWSER_IDENTITY`) for
 * anything else: a corrupt record is an error, never silently replaced
 * (replacing it would change the peer's identity; `clear: true` does that
 * on purpose).
 *
 * @module
 */
import { ED25519_PKCS8_PREFIX } from "../crypto/der.ts";
import { encodeDidKey } from "../identity/did.ts";
import { KeyPair, SEED_LENGTH } from "../identity/ed25519.ts";
import { MaculaError } from "../util/errors.ts";

/** The identity store is unavailable, or holds a record that is not a valid identity. */
export class BrowserIdentityError extends MaculaError {
  /** `message` says what is wrong; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_BROWSER_IDENTITY", message, options);
  }
}

/** Options of `loadBrowserIdentity`. */
export interface BrowserIdentityOptions {
  /** IndexedDB database name. Default `"macula"`. */
  database?: string;
  /** Key of the record in the database's `identity` store. Default `"default"`. */
  key?: string;
  /** A fresh identity for this page only: nothing is read or stored. */
  ephemeral?: boolean;
  /** Use this 32-byte seed (nothing is read or stored). */
  seed?: Uint8Array;
  /** Forget the stored identity first and store a new one (a new `did`). */
  clear?: boolean;
}

/** What `loadBrowserIdentity` returns. */
export interface BrowserIdentity {
  /** The key pair (the seed stays inside it). */
  keyPair: KeyPair;
  /** The peer's `did:key`. */
  did: string;
  /** Where it came from: a stored record, new (WebCrypto, or the CSPRNG where WebCrypto lacks Ed25519), or given. */
  source: "stored" | "webcrypto" | "random" | "seed";
  /** Whether it is kept in IndexedDB. */
  persisted: boolean;
}

/** The stored record. */
export interface StoredIdentity {
  version: 1;
  type: "ed25519";
  seed: Uint8Array;
  did: string;
}

/** Object store name inside the database. */
const STORE = "identity";

/**
 * Check a record read from IndexedDB and rebuild its key pair; throws
 * `BrowserIdentityError` for anything but a valid version-1 Ed25519 record
 * whose `did` matches its seed.
 *
 * @example
 * ```ts
 * import { decodeStoredIdentity, encodeStoredIdentity } from "./identity-store.ts";
 * import { KeyPair } from "../identity/ed25519.ts";
 * const kp = KeyPair.generate();
 * decodeStoredIdentity(encodeStoredIdentity(kp)).publicKey; // kp.publicKey
 * ```
 */
export function decodeStoredIdentity(value: unknown): KeyPair {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BrowserIdentityError(`the stored identity is not a record (${describe(value)})`);
  }
  const r = value as Record<string, unknown>;
  if (r.version !== 1) throw new BrowserIdentityError(`unsupported identity record version ${describe(r.version)}`);
  if (r.type !== "ed25519") throw new BrowserIdentityError(`unsupported identity key type ${describe(r.type)}`);
  if (!(r.seed instanceof Uint8Array) || r.seed.length !== SEED_LENGTH) {
    throw new BrowserIdentityError(`the stored identity's seed is not ${SEED_LENGTH} bytes (${describe(r.seed)})`);
  }
  const keyPair = KeyPair.fromSeed(r.seed);
  const did = encodeDidKey(keyPair.publicKey);
  if (r.did !== did) {
    throw new BrowserIdentityError(`the stored identity's did ${describe(r.did)} does not match its key (${did})`);
  }
  return keyPair;
}

/** The record to store for `keyPair`. */
export function encodeStoredIdentity(keyPair: KeyPair): StoredIdentity {
  return { version: 1, type: "ed25519", seed: keyPair.exportSeed(), did: encodeDidKey(keyPair.publicKey) };
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/**
 * A new key pair from WebCrypto's Ed25519 (`generateKey`, PKCS#8 export of
 * the seed, the public key cross-checked), or from the CSPRNG where the
 * runtime's WebCrypto has no Ed25519.
 *
 * @example
 * ```ts
 * import { generateWithWebCrypto } from "./identity-store.ts";
 * const { keyPair, source } = await generateWithWebCrypto();
 * console.log(source, keyPair.publicKey.length); // "webcrypto" 32
 * ```
 */
export async function generateWithWebCrypto(): Promise<{ keyPair: KeyPair; source: "webcrypto" | "random" }> {
  let pair: CryptoKeyPair;
  try {
    pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  } catch {
    return { keyPair: KeyPair.generate(), source: "random" };
  }
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const prefix = pkcs8.subarray(0, ED25519_PKCS8_PREFIX.length);
  if (
    pkcs8.length !== ED25519_PKCS8_PREFIX.length + SEED_LENGTH || !prefix.every((b, i) => b === ED25519_PKCS8_PREFIX[i])
  ) {
    throw new BrowserIdentityError(`WebCrypto exported an unexpected Ed25519 PKCS#8 key (${pkcs8.length} bytes)`);
  }
  const keyPair = KeyPair.fromSeed(pkcs8.subarray(ED25519_PKCS8_PREFIX.length));
  if (!raw.every((b, i) => b === keyPair.publicKey[i]) || raw.length !== keyPair.publicKey.length) {
    throw new BrowserIdentityError("WebCrypto's Ed25519 public key does not match its seed");
  }
  return { keyPair, source: "webcrypto" };
}

/** The IndexedDB surface used here (the project's types do not include the DOM's). */
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbStore {
  get(key: string): IdbRequest<unknown>;
  put(value: unknown, key: string): IdbRequest<unknown>;
  delete(key: string): IdbRequest<unknown>;
}
interface IdbTransaction {
  objectStore(name: string): IdbStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): IdbStore;
  transaction(store: string, mode: "readonly" | "readwrite"): IdbTransaction;
  close(): void;
}
interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
}

function request<T>(req: IdbRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new BrowserIdentityError(`IndexedDB ${what} failed`, { cause: req.error }));
  });
}

function openDatabase(factory: IdbFactory, name: string): Promise<IdbDatabase> {
  const req = factory.open(name, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
  };
  req.onblocked = () => {};
  return request(req, `open of database ${JSON.stringify(name)}`);
}

function committed(tx: IdbTransaction, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(new BrowserIdentityError(`IndexedDB ${what} failed`, { cause: tx.error }));
  });
}

/**
 * The page's identity: the one stored in IndexedDB (`options.database`,
 * `options.key`), or a new one generated with WebCrypto and stored; with
 * `ephemeral` or `seed`, one that is never stored. Throws
 * `BrowserIdentityError` when IndexedDB is unavailable (use `ephemeral`) or
 * the stored record is corrupt.
 *
 * @example
 * ```ts
 * import { loadBrowserIdentity } from "./identity-store.ts";
 * const { did, source } = await loadBrowserIdentity({ ephemeral: true });
 * console.log(did, source); // "did:key:z6Mk…" "webcrypto"
 * ```
 */
export async function loadBrowserIdentity(options: BrowserIdentityOptions = {}): Promise<BrowserIdentity> {
  if (options.seed) {
    if (options.seed.length !== SEED_LENGTH) {
      throw new BrowserIdentityError(`a seed is ${SEED_LENGTH} bytes, got ${options.seed.length}`);
    }
    const keyPair = KeyPair.fromSeed(options.seed);
    return { keyPair, did: encodeDidKey(keyPair.publicKey), source: "seed", persisted: false };
  }
  if (options.ephemeral) {
    const { keyPair, source } = await generateWithWebCrypto();
    return { keyPair, did: encodeDidKey(keyPair.publicKey), source, persisted: false };
  }
  const factory = (globalThis as { indexedDB?: IdbFactory }).indexedDB;
  if (!factory) throw new BrowserIdentityError("IndexedDB is not available here (use { ephemeral: true })");
  const key = options.key ?? "default";
  const db = await openDatabase(factory, options.database ?? "macula");
  try {
    if (!options.clear) {
      const stored = await request(db.transaction(STORE, "readonly").objectStore(STORE).get(key), "read");
      if (stored !== undefined) {
        const keyPair = decodeStoredIdentity(stored);
        return { keyPair, did: encodeDidKey(keyPair.publicKey), source: "stored", persisted: true };
      }
    }
    const { keyPair, source } = await generateWithWebCrypto();
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(encodeStoredIdentity(keyPair), key);
    await committed(tx, "write");
    return { keyPair, did: encodeDidKey(keyPair.publicKey), source, persisted: true };
  } finally {
    db.close();
  }
}
