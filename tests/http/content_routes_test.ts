/**
 * The `/content` routes over a real HTTP server (Deno.serve on loopback) and
 * a stand-in content service holding bytes in memory: streaming, Range,
 * HEAD, publish, pin/unpin/rm, listing, errors, and the loopback rule.
 * Plus the Range parser's bad inputs and a fuzz loop.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type ContentApi, contentRoutes } from "../../src/http/content-routes.ts";
import { parseRange } from "../../src/http/content-range.ts";
import { statusHandler } from "../../src/http/status-server.ts";
import { ContentNotFoundError } from "../../src/content/errors.ts";
import { hashBytes } from "../../src/content/tree.ts";
import type { Mcid } from "../../src/content/mcid.ts";
import type { StoredContent } from "../../src/content/store.ts";
import type { NodeCore } from "../../src/node/node.ts";

/** Content in memory; `fetch` streams slices in 5000-byte chunks, failing after `failAfter` bytes if set. */
class FakeContent implements ContentApi {
  entries = new Map<string, { mcid: Mcid; data: Uint8Array; pinned: boolean }>();
  failAfter?: number;
  cancelled: unknown[] = [];

  async publish(source: ReadableStream<Uint8Array> | Uint8Array, options?: { pin?: boolean }): Promise<Mcid> {
    const data = source instanceof Uint8Array ? source : new Uint8Array(await new Response(source).arrayBuffer());
    const { mcid } = await hashBytes(data);
    this.entries.set(mcid.toString(), { mcid, data, pinned: options?.pin ?? false });
    return mcid;
  }
  fetch(mcid: Mcid, options: { signal?: AbortSignal; start?: number; end?: number } = {}) {
    const entry = this.entries.get(mcid.toString());
    let pos = options.start ?? 0;
    const end = options.end ?? mcid.size;
    const failAfter = this.failAfter;
    const cancelled = this.cancelled;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!entry) return controller.error(new ContentNotFoundError(mcid.toString()));
        if (failAfter !== undefined && pos >= failAfter) return controller.error(new Error("provider vanished"));
        if (pos >= end) return controller.close();
        const next = Math.min(end, pos + 5000);
        controller.enqueue(entry.data.slice(pos, next));
        pos = next;
      },
      cancel(reason) {
        cancelled.push(reason ?? "cancelled");
      },
    });
  }
  #stored(e: { mcid: Mcid; data: Uint8Array; pinned: boolean }): StoredContent {
    return { mcid: e.mcid, complete: true, pinned: e.pinned, bytes: e.data.length, lastUsed: 0 };
  }
  get(mcid: Mcid) {
    const e = this.entries.get(mcid.toString());
    return e ? this.#stored(e) : undefined;
  }
  list() {
    return [...this.entries.values()].map((e) => this.#stored(e));
  }
  pin(mcid: Mcid) {
    const e = this.entries.get(mcid.toString());
    if (e) e.pinned = true;
    return Promise.resolve(e !== undefined);
  }
  unpin(mcid: Mcid) {
    const e = this.entries.get(mcid.toString());
    if (e) e.pinned = false;
    return Promise.resolve(e !== undefined);
  }
  remove(mcid: Mcid) {
    return Promise.resolve(this.entries.delete(mcid.toString()));
  }
  transfers() {
    return [{ mcid: "bexample", bytes: 1, size: 2 }];
  }
}

async function serve(content: ContentApi, loopback = true) {
  const handler = statusHandler({} as NodeCore, [contentRoutes(content)], { loopback });
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a.port) }, handler);
  const base = `http://127.0.0.1:${await ready.promise}`;
  return { base, close: () => server.shutdown() };
}

function random(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

Deno.test("content routes: publish a body, stream it back whole, by range and by HEAD", async () => {
  const content = new FakeContent();
  const { base, close } = await serve(content);
  try {
    const data = random(100_000);
    const posted = await fetch(`${base}/content?pin=1`, { method: "POST", body: data });
    assertEquals(posted.status, 201);
    const { mcid, size, pinned } = await posted.json();
    assertEquals([size, pinned], [100_000, true]);
    assertEquals(mcid, (await hashBytes(data)).mcid.toString());

    const whole = await fetch(`${base}/content/${mcid}`);
    assertEquals(whole.status, 200);
    assertEquals(whole.headers.get("content-length"), "100000");
    assertEquals(whole.headers.get("accept-ranges"), "bytes");
    assertEquals(new Uint8Array(await whole.arrayBuffer()), data);

    for (
      const [header, start, end] of [
        ["bytes=0-0", 0, 1],
        ["bytes=99990-", 99990, 100000],
        ["bytes=-7", 99993, 100000],
        ["bytes=12345-54320", 12345, 54321],
        ["bytes=5-999999", 5, 100000],
      ] as const
    ) {
      const part = await fetch(`${base}/content/${mcid}`, { headers: { range: header } });
      assertEquals(part.status, 206, header);
      assertEquals(part.headers.get("content-range"), `bytes ${start}-${end - 1}/100000`, header);
      assertEquals(part.headers.get("content-length"), String(end - start), header);
      assertEquals(new Uint8Array(await part.arrayBuffer()), data.slice(start, end), header);
    }
    for (const header of ["bytes=100000-", "bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=-0", "bytes=-"]) {
      const bad = await fetch(`${base}/content/${mcid}`, { headers: { range: header } });
      assertEquals(bad.status, 416, header);
      assertEquals(bad.headers.get("content-range"), "bytes */100000");
      assert((await bad.json()).error.includes("not satisfiable"));
    }
    const head = await fetch(`${base}/content/${mcid}`, { method: "HEAD" });
    assertEquals([head.status, head.headers.get("content-length"), head.headers.get("x-macula-local")], [
      200,
      "100000",
      "1",
    ]);
    assertEquals((await head.arrayBuffer()).byteLength, 0);
  } finally {
    await close();
  }
});

Deno.test("content routes: empty content, list, pin, unpin, rm, transfers", async () => {
  const content = new FakeContent();
  const { base, close } = await serve(content);
  try {
    const { mcid } = await (await fetch(`${base}/content`, { method: "POST" })).json();
    const empty = await fetch(`${base}/content/${mcid}`);
    assertEquals([empty.status, empty.headers.get("content-length"), (await empty.arrayBuffer()).byteLength], [
      200,
      "0",
      0,
    ]);
    assertEquals((await fetch(`${base}/content/${mcid}`, { headers: { range: "bytes=0-" } })).status, 416);
    let list = await (await fetch(`${base}/content`)).json();
    assertEquals(list.map((e: { mcid: string; pinned: boolean }) => [e.mcid, e.pinned]), [[mcid, false]]);
    assertEquals((await (await fetch(`${base}/content/${mcid}/pin`, { method: "PUT" })).json()).pinned, true);
    list = await (await fetch(`${base}/content`)).json();
    assertEquals(list[0].pinned, true);
    assertEquals((await (await fetch(`${base}/content/${mcid}/pin`, { method: "DELETE" })).json()).pinned, false);
    assertEquals((await fetch(`${base}/content/${mcid}`, { method: "DELETE" })).status, 200);
    const gone = await fetch(`${base}/content/${mcid}`, { method: "DELETE" });
    assertEquals(gone.status, 404);
    assert((await gone.json()).error.includes("not stored"));
    assertEquals(
      (await (await fetch(`${base}/content/${mcid}/pin`, { method: "PUT" })).json()).error.includes("not stored"),
      true,
    );
    assertEquals(await (await fetch(`${base}/content/transfers`)).json(), [{ mcid: "bexample", bytes: 1, size: 2 }]);
    assertEquals((await fetch(`${base}/content/transfers`, { method: "POST" })).status, 405);
    assertEquals((await fetch(`${base}/content/${mcid}/pin`, { method: "POST" })).status, 405);
    const unknownPath = await fetch(`${base}/content/${mcid}/other`);
    assertEquals(unknownPath.status, 404);
    await unknownPath.body?.cancel();
  } finally {
    await close();
  }
});

Deno.test("content routes: a bad id is 400 with the parse error; unknown content is 404; a cut stream cuts the body", async () => {
  const content = new FakeContent();
  const { base, close } = await serve(content);
  try {
    for (const bad of ["xyz", "bAAAA", "b", "b" + "a".repeat(100), "%ff"]) {
      const res = await fetch(`${base}/content/${bad}`);
      assertEquals(res.status, 400, bad);
      const body = await res.json();
      assert(body.error.startsWith("invalid content id: "), body.error);
      assertEquals(body.error.includes("\n"), false);
    }
    const { mcid: absent } = await hashBytes(new Uint8Array([1, 2, 3]));
    const missing = await fetch(`${base}/content/${absent}`);
    assertEquals(missing.status, 404);
    assert((await missing.json()).error.includes("not found"));

    const data = random(50_000);
    const mcid = await content.publish(data);
    content.failAfter = 20_000;
    const cut = await fetch(`${base}/content/${mcid}`);
    assertEquals(cut.status, 200);
    let got = 0;
    let failed = false;
    try {
      for await (const chunk of cut.body!) got += chunk.length;
    } catch {
      failed = true;
    }
    assert(failed, `the body ended cleanly after ${got} bytes`);
    assert(got < 50_000);
  } finally {
    await close();
  }
});

Deno.test("content routes: changes are refused (403, one-line JSON) unless bound to loopback; reads still work", async () => {
  const content = new FakeContent();
  const mcid = await content.publish(new Uint8Array([7, 7, 7]));
  const { base, close } = await serve(content, false);
  try {
    for (
      const [method, path] of [["POST", "/content"], ["PUT", `/content/${mcid}/pin`], [
        "DELETE",
        `/content/${mcid}/pin`,
      ], ["DELETE", `/content/${mcid}`]]
    ) {
      const res = await fetch(base + path, { method, body: method === "POST" ? "x" : undefined });
      assertEquals(res.status, 403, `${method} ${path}`);
      const body = await res.json();
      assert(body.error.includes("not bound to loopback"));
    }
    assertEquals(content.entries.size, 1);
    assertEquals(
      new Uint8Array(await (await fetch(`${base}/content/${mcid}`)).arrayBuffer()),
      new Uint8Array([7, 7, 7]),
    );
  } finally {
    await close();
  }
});

Deno.test("content routes: a client that goes away cancels the service's stream", async () => {
  const content = new FakeContent();
  const data = random(2_000_000);
  const mcid = await content.publish(data);
  const { base, close } = await serve(content);
  try {
    const res = await fetch(`${base}/content/${mcid}`);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const deadline = Date.now() + 5_000;
    while (content.cancelled.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assertEquals(content.cancelled.length, 1, "the service's stream was not cancelled");
  } finally {
    await close();
  }
});

Deno.test("parseRange: the forms, the bad inputs, and a fuzz loop of 20,000 headers", () => {
  assertEquals(parseRange(null, 10), null);
  assertEquals(parseRange("bytes=0-9", 10), { start: 0, end: 10 });
  assertEquals(parseRange("bytes=3-", 10), { start: 3, end: 10 });
  assertEquals(parseRange("bytes=-3", 10), { start: 7, end: 10 });
  assertEquals(parseRange("bytes=-30", 10), { start: 0, end: 10 });
  assertEquals(parseRange("BYTES = 1 - 2", 10), { start: 1, end: 3 });
  for (
    const bad of [
      "",
      "bytes",
      "bytes=",
      "bytes=-",
      "bytes=a-b",
      "bytes=1-2,3-4",
      "bytes=10-",
      "bytes=3-2",
      "bytes=-0",
      "bytes=1.5-2",
      "bytes=99999999999999999-",
    ]
  ) {
    assertEquals(parseRange(bad, 10), "unsatisfiable", JSON.stringify(bad));
  }
  assertEquals(parseRange("bytes=0-", 0), "unsatisfiable");
  const alphabet = "bytes=-0123456789, ;xX\u0000";
  for (let i = 0; i < 20_000; i++) {
    const len = Math.floor(Math.random() * 24);
    let header = Math.random() < 0.5 ? "bytes=" : "";
    for (let j = 0; j < len; j++) header += alphabet[Math.floor(Math.random() * alphabet.length)];
    const size = Math.floor(Math.random() * 1000);
    const r = parseRange(header, size);
    if (r === "unsatisfiable") continue;
    assert(r !== null);
    assert(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end), header);
    assert(0 <= r.start && r.start < r.end && r.end <= size, `${header} on ${size}: ${JSON.stringify(r)}`);
  }
});
