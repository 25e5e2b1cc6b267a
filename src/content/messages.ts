/**
 * The content transfer protocol, `/macula/content/1`. One stream per
 * (fetcher, provider) session: the fetcher writes requests, the provider
 * writes answers, both pipelined, each one length-prefixed CBOR map (at
 * most `MAX_CONTENT_FRAME` bytes) whose `t` field names it.
 *
 * Requests (fetcher → provider):
 * - `want-have {id, mcid, ranges?}` — which groups (of `ranges`, default all) do you have?
 * - `want-tree {id, mcid, from, count}` — leaf hashes `from … from + count − 1` (count ≤ 8192);
 * - `want-block {id, mcid, ranges}` — send these groups;
 * - `cancel {id}` — stop answering request `id`.
 *
 * Answers (provider → fetcher):
 * - `have {id, ranges}`;
 * - `tree {id, from, hashes}` — 32 bytes per leaf;
 * - `block {id, index, data}` — 1 to 16 consecutive whole groups starting at `index`;
 * - `dont-have {id, ranges?, reason?}` — `reason` e.g. `missing`, `busy`, `denied`, `cancelled`.
 *
 * A provider always answers: every group of a want-block is either sent in
 * a block or listed in a final dont-have (a cancel ends the request with a
 * dont-have of what was not sent); a want-have or want-tree gets have/tree
 * or dont-have. Ranges travel flat, `[s0, e0, s1, e1, …]`
 * (`RangeSet.toFlat`), canonical: sorted, disjoint, not touching, within
 * the content's group count, at most `MAX_RANGES` ranges. `mcid` is the
 * binary content id.
 *
 * @module
 */
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { FRAME_HEADER, putFrameHeader } from "../wire/frame.ts";
import { array, bytes, literal, messageDecoder, object, optional, str, uint, type Validator } from "../wire/schema.ts";
import { HASH_LENGTH } from "./hash.ts";
import { MAX_MCID_BYTES, Mcid } from "./mcid.ts";
import { RangeSet } from "./ranges.ts";
import { GROUP_SIZE, groupCount } from "./tree.ts";

/** Protocol id. */
export const CONTENT_PROTOCOL = "/macula/content/1";
/** Most ranges in one message. */
export const MAX_RANGES = 1024;
/** Most leaf hashes in one want-tree / tree. */
export const MAX_TREE_PAGE = 8192;
/** Most groups in one block answer. */
export const MAX_BLOCK_GROUPS = 16;
/** Largest frame of the protocol, bytes (a full tree page or block plus its header). */
export const MAX_CONTENT_FRAME = 512 * 1024;
/** Largest request id. */
export const MAX_REQUEST_ID = 0xffff_ffff;

/** A request, fetcher → provider. */
export type ContentRequest =
  | { t: "want-have"; id: number; mcid: Mcid; ranges?: RangeSet }
  | { t: "want-tree"; id: number; mcid: Mcid; from: number; count: number }
  | { t: "want-block"; id: number; mcid: Mcid; ranges: RangeSet }
  | { t: "cancel"; id: number };

/** An answer, provider → fetcher. */
export type ContentAnswer =
  | { t: "have"; id: number; ranges: RangeSet }
  | { t: "tree"; id: number; from: number; hashes: Uint8Array }
  | { t: "block"; id: number; index: number; data: Uint8Array }
  | { t: "dont-have"; id: number; ranges?: RangeSet; reason?: string };

const REASON = /^[a-z][a-z0-9-]*$/;
const REQUEST = "content request";
const ANSWER = "content answer";

const requestId = uint({ max: MAX_REQUEST_ID });
const flat: Validator<number[]> = array(uint(), { max: 2 * MAX_RANGES });

/** Check flat ranges: even length, canonical, below `groups`; `nonEmpty` refuses `[]`. */
function ranges(raw: number[], groups: number, type: string, nonEmpty: boolean): RangeSet {
  const bad = (detail: string) => new WireError("E_WIRE_INVALID", type, `ranges: ${detail}`);
  if (raw.length % 2 !== 0) throw bad("odd number of bounds");
  if (nonEmpty && raw.length === 0) throw bad("empty");
  let last = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const s = raw[i], e = raw[i + 1];
    if (s <= last) throw bad("not sorted, disjoint and separated");
    if (e <= s) throw bad(`empty or reversed range [${s}, ${e})`);
    if (e > groups) throw bad(`range end ${e} beyond ${groups} groups`);
    last = e;
  }
  return RangeSet.fromFlat(raw);
}

function mcidOf(raw: Uint8Array, type: string): Mcid {
  try {
    return Mcid.fromBytes(raw);
  } catch (error) {
    throw new WireError("E_WIRE_INVALID", type, `mcid: ${(error as Error).message}`);
  }
}

const decodeRequestShape = messageDecoder(
  REQUEST,
  object({
    t: literal("want-have", "want-tree", "want-block", "cancel"),
    id: requestId,
    mcid: optional(bytes({ max: MAX_MCID_BYTES })),
    ranges: optional(flat),
    from: optional(uint()),
    count: optional(uint({ max: MAX_TREE_PAGE })),
  }),
);

/**
 * Decode a request; throws `WireError` for anything malformed or
 * inconsistent (ranges beyond the content, a tree page past its end, a
 * missing mcid, fields of another request type).
 *
 * @example
 * ```ts
 * import { decodeRequest, encodeRequest } from "./messages.ts";
 * decodeRequest(encodeRequest({ t: "cancel", id: 7 })); // { t: "cancel", id: 7 }
 * ```
 */
export function decodeRequest(input: Uint8Array): ContentRequest {
  const m = decodeRequestShape(input);
  const bad = (detail: string) => new WireError("E_WIRE_INVALID", REQUEST, detail);
  if (m.t === "cancel") {
    if (m.mcid || m.ranges || m.from !== undefined || m.count !== undefined) throw bad("a cancel carries only an id");
    return { t: "cancel", id: m.id };
  }
  if (!m.mcid) throw bad(`a ${m.t} needs an mcid`);
  const mcid = mcidOf(m.mcid, REQUEST);
  const groups = groupCount(mcid.size);
  if (m.t === "want-tree") {
    if (m.ranges) throw bad("a want-tree carries no ranges");
    if (m.from === undefined || m.count === undefined) throw bad("a want-tree needs from and count");
    if (m.from >= groups) throw bad(`from ${m.from} beyond ${groups} groups`);
    if (m.count === 0) throw bad("count must be at least 1");
    return { t: "want-tree", id: m.id, mcid, from: m.from, count: m.count };
  }
  if (m.from !== undefined || m.count !== undefined) throw bad(`a ${m.t} carries no from or count`);
  if (m.t === "want-block") {
    if (!m.ranges) throw bad("a want-block needs ranges");
    return { t: "want-block", id: m.id, mcid, ranges: ranges(m.ranges, groups, REQUEST, true) };
  }
  if (m.ranges) return { t: "want-have", id: m.id, mcid, ranges: ranges(m.ranges, groups, REQUEST, true) };
  return { t: "want-have", id: m.id, mcid };
}

function checkedFlat(set: RangeSet): number[] {
  if (set.size > MAX_RANGES) throw new RangeError(`at most ${MAX_RANGES} ranges per message, got ${set.size}`);
  return set.toFlat();
}

/**
 * Encode a request (throws `RangeError` for more than `MAX_RANGES` ranges).
 *
 * @example
 * ```ts
 * import { encodeRequest } from "./messages.ts";
 * import { Mcid } from "./mcid.ts";
 * import { RangeSet } from "./ranges.ts";
 * const mcid = new Mcid("blake3", 1 << 20, new Uint8Array(32));
 * const frame = encodeRequest({ t: "want-block", id: 1, mcid, ranges: new RangeSet([[0, 16]]) });
 * ```
 */
export function encodeRequest(request: ContentRequest): Uint8Array {
  switch (request.t) {
    case "cancel":
      return encodeCbor({ t: "cancel", id: request.id });
    case "want-tree":
      return encodeCbor({
        t: "want-tree",
        id: request.id,
        mcid: request.mcid.bytes,
        from: request.from,
        count: request.count,
      });
    case "want-block":
      return encodeCbor({
        t: "want-block",
        id: request.id,
        mcid: request.mcid.bytes,
        ranges: checkedFlat(request.ranges),
      });
    case "want-have": {
      const out: Record<string, unknown> = { t: "want-have", id: request.id, mcid: request.mcid.bytes };
      if (request.ranges) out.ranges = checkedFlat(request.ranges);
      return encodeCbor(out);
    }
  }
}

const decodeAnswerShape = messageDecoder(
  ANSWER,
  object({
    t: literal("have", "tree", "block", "dont-have"),
    id: requestId,
    ranges: optional(flat),
    from: optional(uint()),
    hashes: optional(bytes({ max: MAX_TREE_PAGE * HASH_LENGTH })),
    index: optional(uint()),
    data: optional(bytes({ max: MAX_BLOCK_GROUPS * GROUP_SIZE })),
    reason: optional(str({ min: 1, max: 32, pattern: REASON })),
  }),
);

/**
 * Decode an answer about content of `groups` groups (ranges, tree pages
 * and blocks must lie within it); throws `WireError` for anything
 * malformed or inconsistent. Whether a block's data is made of whole groups
 * and matches its hashes is for the fetcher to check.
 *
 * @example
 * ```ts
 * import { decodeAnswer, encodeAnswer } from "./messages.ts";
 * decodeAnswer(encodeAnswer({ t: "dont-have", id: 3, reason: "busy" }), 10); // { t: "dont-have", id: 3, reason: "busy" }
 * ```
 */
export function decodeAnswer(input: Uint8Array, groups: number): ContentAnswer {
  const m = decodeAnswerShape(input);
  const bad = (detail: string) => new WireError("E_WIRE_INVALID", ANSWER, detail);
  const only = (...allowed: string[]) => {
    for (const key of ["ranges", "from", "hashes", "index", "data", "reason"] as const) {
      if (m[key] !== undefined && !allowed.includes(key)) throw bad(`a ${m.t} carries no ${key}`);
    }
  };
  switch (m.t) {
    case "have":
      only("ranges");
      if (!m.ranges) throw bad("a have needs ranges");
      return { t: "have", id: m.id, ranges: ranges(m.ranges, groups, ANSWER, false) };
    case "tree": {
      only("from", "hashes");
      if (m.from === undefined || !m.hashes) throw bad("a tree needs from and hashes");
      const n = m.hashes.length / HASH_LENGTH;
      if (!Number.isInteger(n) || n === 0) throw bad(`hashes must be a positive multiple of ${HASH_LENGTH} bytes`);
      if (m.from + n > groups) throw bad(`leaves ${m.from}+${n} beyond ${groups} groups`);
      return { t: "tree", id: m.id, from: m.from, hashes: m.hashes };
    }
    case "block":
      only("index", "data");
      if (m.index === undefined || !m.data) throw bad("a block needs index and data");
      if (m.index >= groups) throw bad(`group ${m.index} beyond ${groups} groups`);
      return { t: "block", id: m.id, index: m.index, data: m.data };
    case "dont-have": {
      only("ranges", "reason");
      const out: ContentAnswer = { t: "dont-have", id: m.id };
      if (m.ranges) out.ranges = ranges(m.ranges, groups, ANSWER, true);
      if (m.reason) out.reason = m.reason;
      return out;
    }
  }
}

/**
 * Encode an answer (for blocks prefer `encodeBlockFrame`, which frames
 * without a second copy).
 *
 * @example
 * ```ts
 * import { encodeAnswer } from "./messages.ts";
 * import { RangeSet } from "./ranges.ts";
 * const frame = encodeAnswer({ t: "have", id: 1, ranges: new RangeSet([[0, 4]]) });
 * ```
 */
export function encodeAnswer(answer: ContentAnswer): Uint8Array {
  switch (answer.t) {
    case "have":
      return encodeCbor({ t: "have", id: answer.id, ranges: checkedFlat(answer.ranges) });
    case "tree":
      return encodeCbor({ t: "tree", id: answer.id, from: answer.from, hashes: answer.hashes });
    case "block":
      return encodeCbor({ t: "block", id: answer.id, index: answer.index, data: answer.data });
    case "dont-have": {
      const out: Record<string, unknown> = { t: "dont-have", id: answer.id };
      if (answer.ranges) out.ranges = checkedFlat(answer.ranges);
      if (answer.reason) out.reason = answer.reason;
      return encodeCbor(out);
    }
  }
}

/**
 * A whole length-prefixed frame holding the block answer `{t: "block", id,
 * index, data}` — the same bytes as `encodeFrame(encodeAnswer(…))`, built
 * with one copy of `data`.
 */
export function encodeBlockFrame(id: number, index: number, data: Uint8Array): Uint8Array {
  // The map with an empty byte string last; its final byte (0x40) becomes the real header.
  const head = encodeCbor({ t: "block", id, index, data: new Uint8Array(0) });
  const n = data.length;
  const bsHead = n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const payload = head.length - 1 + bsHead + n;
  const out = new Uint8Array(FRAME_HEADER + payload);
  putFrameHeader(out, 0, payload);
  out.set(head.subarray(0, head.length - 1), FRAME_HEADER);
  let off = FRAME_HEADER + head.length - 1;
  if (bsHead === 1) out[off++] = 0x40 | n;
  else if (bsHead === 2) out.set([0x58, n], (off += 2) - 2);
  else if (bsHead === 3) out.set([0x59, n >> 8, n & 0xff], (off += 3) - 3);
  else out.set([0x5a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff], (off += 5) - 5);
  out.set(data, off);
  return out;
}
