/**
 * Test doubles of a provider's store: a `ContentStore` that delegates to a
 * real one but lets a test change what its readers return (flip bytes, hang,
 * lie about the leaf hashes).
 */
import type { Mcid } from "../../../src/content/mcid.ts";
import type { RangeSet } from "../../../src/content/ranges.ts";
import type {
  ContentReader,
  ContentStore,
  ContentWriter,
  PutOptions,
  StoredContent,
} from "../../../src/content/store.ts";

/** What a faulty store's readers do instead of the real thing. */
export interface Faults {
  /** Replace a read (call `real` for the true bytes). */
  read?: (real: () => Promise<Uint8Array>, offset: number, length: number) => Promise<Uint8Array>;
  /** Replace the leaf hashes. */
  leaves?: (real: Uint8Array | undefined) => Uint8Array | undefined;
}

/** `store` with `faults` applied to its readers. */
export class FaultyStore implements ContentStore {
  constructor(readonly inner: ContentStore, readonly faults: Faults) {}
  get quota(): number {
    return this.inner.quota;
  }
  used(): number {
    return this.inner.used();
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  put(
    source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<StoredContent> {
    return this.inner.put(source, options);
  }
  get(mcid: Mcid): StoredContent | undefined {
    return this.inner.get(mcid);
  }
  list(): StoredContent[] {
    return this.inner.list();
  }
  writer(mcid: Mcid): Promise<ContentWriter> {
    return this.inner.writer(mcid);
  }
  async reader(mcid: Mcid): Promise<ContentReader | undefined> {
    const r = await this.inner.reader(mcid);
    if (!r) return r;
    const f = this.faults;
    return {
      mcid: r.mcid,
      leaves: f.leaves ? f.leaves(r.leaves) : r.leaves,
      have: (): RangeSet => r.have(),
      read: (offset, length) => f.read ? f.read(() => r.read(offset, length), offset, length) : r.read(offset, length),
      close: () => r.close(),
    };
  }
  pin(mcid: Mcid, pinned: boolean): Promise<boolean> {
    return this.inner.pin(mcid, pinned);
  }
  remove(mcid: Mcid): Promise<boolean> {
    return this.inner.remove(mcid);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
