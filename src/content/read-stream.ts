/**
 * A `ReadableStream` of verified content bytes, in order, from the store:
 * complete content is read straight through; content still downloading is
 * read group by group as the download verifies and writes each one, so the
 * reader never sees a byte that was not verified, and memory holds one
 * read chunk at a time.
 *
 * @module
 */
import type { ContentStore } from "./store.ts";
import type { Mcid } from "./mcid.ts";
import { GROUP_SIZE } from "./tree.ts";

/** Largest chunk the stream hands out, bytes. */
export const READ_CHUNK = 256 * 1024;

/** What the stream follows while content is being downloaded. */
export interface DownloadFollow {
  /** Is group `index` present (verified and written)? */
  present(index: number): boolean;
  /** Resolves when another group was written, or rejects when the download failed. */
  changed(): Promise<void>;
  /** Settles with the download; the stream ends only once it succeeded (empty ranges have no group to wait for). */
  done: Promise<unknown>;
}

/** Options of `contentStream`. */
export interface ContentStreamOptions {
  /** First byte (default 0). */
  start?: number;
  /** End byte, exclusive (default the size). */
  end?: number;
  /** The download to follow while content is incomplete. */
  follow?: DownloadFollow;
  /** Cancels the stream. */
  signal?: AbortSignal;
}

/**
 * Stream bytes `[start, end)` of `mcid` from `store`.
 *
 * @example
 * ```ts
 * import { contentStream } from "./read-stream.ts";
 * declare const store: import("./store.ts").ContentStore;
 * declare const mcid: import("./mcid.ts").Mcid;
 * const text = await new Response(contentStream(store, mcid)).text();
 * ```
 */
export function contentStream(
  store: ContentStore,
  mcid: Mcid,
  options: ContentStreamOptions = {},
): ReadableStream<Uint8Array> {
  const end = Math.min(options.end ?? mcid.size, mcid.size);
  let pos = Math.max(0, Math.min(options.start ?? 0, end));
  let reader: Awaited<ReturnType<ContentStore["reader"]>>;
  const close = async () => {
    const r = reader;
    reader = undefined;
    await r?.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (pos >= end) {
          await options.follow?.done;
          await close();
          controller.close();
          return;
        }
        options.signal?.throwIfAborted();
        // How far the verified bytes reach from `pos`.
        let reach = pos;
        const limit = Math.min(end, pos + READ_CHUNK);
        const follow = options.follow;
        if (follow) {
          for (;;) {
            while (reach < limit && follow.present(Math.floor(reach / GROUP_SIZE))) {
              reach = (Math.floor(reach / GROUP_SIZE) + 1) * GROUP_SIZE;
            }
            if (reach > pos) break;
            await follow.changed();
            options.signal?.throwIfAborted();
          }
          reach = Math.min(reach, limit);
        } else {
          reach = limit;
        }
        reader ??= await store.reader(mcid);
        if (!reader) throw new Error(`content ${mcid} is no longer in the store`);
        let bytes: Uint8Array;
        try {
          bytes = await reader.read(pos, reach - pos);
        } catch {
          // A reader opened on a partial entry may not see later groups: reopen once.
          await close();
          reader = await store.reader(mcid);
          if (!reader) throw new Error(`content ${mcid} is no longer in the store`);
          bytes = await reader.read(pos, reach - pos);
        }
        pos += bytes.length;
        controller.enqueue(bytes);
      } catch (error) {
        await close().catch(() => {});
        controller.error(error);
      }
    },
    async cancel() {
      await close();
    },
  }, { highWaterMark: 0 });
}
