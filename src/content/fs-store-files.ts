/**
 * The on-disk layout of `FsContentStore`: file names and the two small
 * per-entry files it decodes (metadata and have-set).
 *
 * Every entry is a handful of files named after the MCID's text form
 * (lower-case base32, so safe as a file name on every file system):
 *
 * - `<mcid>.data` — the complete content (its presence makes the entry complete);
 * - `<mcid>.part` — a partial entry's content, sparse, `mcid.size` long;
 * - `<mcid>.leaves` — the verified leaf hashes (32 bytes per 16 KiB group);
 * - `<mcid>.have` — a partial entry's have-set, a bitfield (bit i = group i, LSB first);
 * - `<mcid>.meta` — JSON `{"v":1,"pinned":bool,"lastUsed":ms}`.
 *
 * Temporary files are `put-<uuid>.tmp` (a `put` in progress) and
 * `<name>.tmp-<uuid>` (an atomic write in progress); `open()` removes them.
 *
 * @module
 */
import type { RangeSet } from "./ranges.ts";
import { RangeSet as Ranges } from "./ranges.ts";

/** The kinds of per-entry file. */
export type EntryFileKind = "data" | "part" | "leaves" | "have" | "meta";

/** Every per-entry file kind, in the order they are removed (content first). */
export const ENTRY_FILE_KINDS: readonly EntryFileKind[] = ["data", "part", "have", "leaves", "meta"];

/** The name of an entry's file of `kind`. */
export function entryFileName(mcidText: string, kind: EntryFileKind): string {
  return `${mcidText}.${kind}`;
}

/** Split a directory entry name into an MCID text and a kind, or `null` if it is not an entry file. */
export function parseEntryFileName(name: string): { mcidText: string; kind: EntryFileKind } | null {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return null;
  const kind = name.slice(dot + 1);
  if (!(ENTRY_FILE_KINDS as readonly string[]).includes(kind)) return null;
  return { mcidText: name.slice(0, dot), kind: kind as EntryFileKind };
}

/** Whether `name` is a leftover temporary file (removed at open). */
export function isTempFileName(name: string): boolean {
  return /^put-[0-9a-f-]+\.tmp$/.test(name) || name.includes(".tmp-");
}

/** The name of a new temporary file for a `put`. */
export function newPutTempName(): string {
  return `put-${crypto.randomUUID()}.tmp`;
}

/** What the metadata file holds. */
export interface EntryMeta {
  /** Never evicted. */
  pinned: boolean;
  /** Last use, ms since the epoch. */
  lastUsed: number;
}

/** Longest metadata file accepted, bytes. */
export const MAX_META_BYTES = 1024;

/** The metadata file's bytes. */
export function encodeMeta(meta: EntryMeta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, pinned: meta.pinned, lastUsed: meta.lastUsed }));
}

/**
 * Decode a metadata file strictly; `null` for anything else (a torn or
 * foreign file: the store then falls back to unpinned, used now).
 */
export function decodeMeta(bytes: Uint8Array): EntryMeta | null {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_META_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (o.v !== 1 || typeof o.pinned !== "boolean") return null;
  if (typeof o.lastUsed !== "number" || !Number.isSafeInteger(o.lastUsed) || o.lastUsed < 0) return null;
  return { pinned: o.pinned, lastUsed: o.lastUsed };
}

/** The have-set file's bytes for an entry of `groups` groups. */
export function encodeHave(have: RangeSet, groups: number): Uint8Array {
  return have.toBitfield(groups);
}

/**
 * Decode a have-set file of an entry of `groups` groups strictly: exactly
 * `ceil(groups / 8)` bytes, no bit set past the last group; `null` otherwise.
 */
export function decodeHave(bytes: Uint8Array, groups: number): RangeSet | null {
  if (!(bytes instanceof Uint8Array) || !Number.isSafeInteger(groups) || groups < 1) return null;
  if (bytes.length !== Math.ceil(groups / 8)) return null;
  const spare = bytes.length * 8 - groups;
  if (spare > 0 && (bytes[bytes.length - 1] >> (8 - spare)) !== 0) return null;
  return Ranges.fromBitfield(bytes, groups);
}
