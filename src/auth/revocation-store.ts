/**
 * Where a node keeps the revocations it has accepted: in memory, or in an
 * append-only file that survives restarts. A store holds opaque bytes (the
 * encoded revocation invocations) under their id (the invocation's CID);
 * checking and decoding them is the auth service's job.
 *
 * The file (`<dataDir>/auth/revocations`) has one line per revocation,
 * `<id> <base64 of the bytes>`, and is fsynced after every append. A line
 * that cannot be read (a torn write, a stray edit) is skipped with a
 * warning and counted in `corrupt`; it never stops the node.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { FsApi } from "../platform/types.ts";
import { fromBase64, fromUtf8, toBase64, utf8 } from "../util/bytes.ts";

/** Largest stored revocation, bytes. */
export const MAX_REVOCATION_BYTES = 16 * 1024;
/** Most revocations a store holds. */
export const MAX_REVOCATIONS = 100_000;

const ID = /^[a-z0-9]{1,128}$/;

/** A store of accepted revocations. */
export interface RevocationStore {
  /** Read what is stored; called once before any other method. */
  open(): Promise<void>;
  /** Keep `bytes` under `id` (durably, for a file store); `false` if `id` was already stored. */
  add(id: string, bytes: Uint8Array): Promise<boolean>;
  /** Whether a revocation with id `id` is stored. */
  has(id: string): boolean;
  /** Every stored revocation's bytes, oldest first. */
  all(): readonly Uint8Array[];
  /** How many are stored. */
  readonly size: number;
  /** Entries skipped as unreadable when opened. */
  readonly corrupt: number;
  /** Release the store (the file store closes its file). */
  close(): Promise<void>;
}

/** Check what `add` is given. */
function checkEntry(id: string, bytes: Uint8Array, size: number): void {
  if (!ID.test(id)) throw new TypeError(`invalid revocation id ${JSON.stringify(id)}`);
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_REVOCATION_BYTES) {
    throw new RangeError(`a revocation is 1-${MAX_REVOCATION_BYTES} bytes`);
  }
  if (size >= MAX_REVOCATIONS) throw new RangeError(`the store is full (${MAX_REVOCATIONS} revocations)`);
}

/**
 * Revocations in memory (lost on restart).
 *
 * @example
 * ```ts
 * import { MemoryRevocationStore } from "./revocation-store.ts";
 * const store = new MemoryRevocationStore();
 * await store.open();
 * await store.add("bafyexample", new Uint8Array([1, 2, 3])); // true
 * store.has("bafyexample"); // true
 * ```
 */
export class MemoryRevocationStore implements RevocationStore {
  readonly #entries = new Map<string, Uint8Array>();

  /** Nothing to read. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** Keep `bytes` under `id`; `false` if already there. */
  add(id: string, bytes: Uint8Array): Promise<boolean> {
    if (this.#entries.has(id)) return Promise.resolve(false);
    checkEntry(id, bytes, this.#entries.size);
    this.#entries.set(id, bytes.slice());
    return Promise.resolve(true);
  }

  /** Whether `id` is stored. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Every stored revocation, oldest first. */
  all(): readonly Uint8Array[] {
    return [...this.#entries.values()];
  }

  /** How many are stored. */
  get size(): number {
    return this.#entries.size;
  }

  /** Always 0. */
  get corrupt(): number {
    return 0;
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Revocations in an append-only file, read when opened, fsynced on every
 * add.
 *
 * @example
 * ```ts
 * import { FileRevocationStore } from "./revocation-store.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const fs = currentPlatform().fs;
 * const store = new FileRevocationStore(fs, fs.join(".macula", "auth"));
 * await store.open();
 * console.log(store.size, "revocations,", store.corrupt, "unreadable lines skipped");
 * await store.close();
 * ```
 */
export class FileRevocationStore implements RevocationStore {
  readonly #fs: FsApi;
  readonly #dir: string;
  readonly #path: string;
  readonly #log?: Logger;
  readonly #entries = new Map<string, Uint8Array>();
  #corrupt = 0;
  #length = 0;
  /** Whether the file ends in the middle of a line (a torn write): the next append starts a new one. */
  #torn = false;
  #tail: Promise<unknown> = Promise.resolve();

  /** A store in `dir` (file `revocations`); `log` hears of unreadable lines. */
  constructor(fs: FsApi, dir: string, options: { log?: Logger } = {}) {
    this.#fs = fs;
    this.#dir = dir;
    this.#path = fs.join(dir, "revocations");
    this.#log = options.log;
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /** Read the file (a missing file is an empty store). */
  async open(): Promise<void> {
    await this.#fs.mkdir(this.#dir, 0o700);
    const data = await this.#fs.readFile(this.#path);
    if (!data) return;
    this.#length = data.length;
    this.#torn = data.length > 0 && data[data.length - 1] !== 0x0a;
    const lines = fromUtf8(data).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.length === 0) continue;
      const entry = parseLine(line);
      if (!entry || this.#entries.size >= MAX_REVOCATIONS) {
        this.#corrupt++;
        this.#log?.warn("skipping an unreadable line of the revocation file", { path: this.#path, line: i + 1 });
        continue;
      }
      if (!this.#entries.has(entry.id)) this.#entries.set(entry.id, entry.bytes);
    }
  }

  /** Append `bytes` under `id` and fsync; `false` if already stored. */
  add(id: string, bytes: Uint8Array): Promise<boolean> {
    if (this.#entries.has(id)) return Promise.resolve(false);
    checkEntry(id, bytes, this.#entries.size);
    const copy = bytes.slice();
    this.#entries.set(id, copy);
    const write = this.#tail.then(() => this.#append(`${id} ${toBase64(copy)}\n`));
    this.#tail = write.catch(() => {});
    return write.then(() => true, (error) => {
      this.#entries.delete(id);
      throw error;
    });
  }

  async #append(line: string): Promise<void> {
    const data = utf8(this.#torn ? "\n" + line : line);
    const file = await this.#fs.open(this.#path, { write: true, create: true, mode: 0o600 });
    try {
      await file.writeAt(data, this.#length);
      await file.sync();
    } finally {
      await file.close();
    }
    this.#length += data.length;
    this.#torn = false;
  }

  /** Whether `id` is stored. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Every stored revocation, oldest first. */
  all(): readonly Uint8Array[] {
    return [...this.#entries.values()];
  }

  /** How many are stored. */
  get size(): number {
    return this.#entries.size;
  }

  /** Lines skipped as unreadable when opened. */
  get corrupt(): number {
    return this.#corrupt;
  }

  /** Wait for pending appends. */
  async close(): Promise<void> {
    await this.#tail;
  }
}

/** One line, `<id> <base64>`, or `null` if it is not one. */
function parseLine(line: string): { id: string; bytes: Uint8Array } | null {
  const space = line.indexOf(" ");
  if (space < 0) return null;
  const id = line.slice(0, space);
  const text = line.slice(space + 1);
  if (!ID.test(id) || text.length === 0 || text.length > Math.ceil(MAX_REVOCATION_BYTES / 3) * 4) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  try {
    const bytes = fromBase64(text);
    return bytes.length > 0 ? { id, bytes } : null;
  } catch {
    return null;
  }
}
