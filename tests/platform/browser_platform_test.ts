/** The browser platform: everything a page lacks is a typed error, the rest comes from web standards. */
import { BrowserUnavailableError, createBrowserPlatform } from "../../src/platform/browser.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";

Deno.test("browser platform: no sockets, server, files or stdin (E_BROWSER_UNAVAILABLE); web-standard process API", async () => {
  const p = createBrowserPlatform();
  assertEquals([p.runtime, p.target, p.quic, p.udp], ["browser", "web", undefined, undefined]);
  const refusals = [
    () => p.tcp.listen({ hostname: "127.0.0.1", port: 0 }),
    () => p.tcp.connect({ hostname: "127.0.0.1", port: 1 }),
    () => p.http.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response()),
    () => p.fs.readFile("x"),
    () => p.fs.writeFileAtomic("x", new Uint8Array(), 0o600),
    () => p.fs.open("x", { read: true }),
    () => p.fs.readDir("."),
    () => p.process.writeStdout(new Uint8Array(1)),
  ];
  for (const refuse of refusals) {
    const error = await assertRejects(refuse, BrowserUnavailableError, "not available in a browser");
    assertEquals((error as BrowserUnavailableError).code, "E_BROWSER_UNAVAILABLE");
  }
  assertThrows(() => p.fs.readStream("x"), BrowserUnavailableError);
  assertThrows(() => p.process.stdin(), BrowserUnavailableError);
  assertThrows(() => p.process.exit(0), BrowserUnavailableError);
  assertEquals(p.process.interfaces(), []);
  assertEquals(p.process.env("HOME"), undefined);
  assertEquals(p.fs.join("a", "b//c", ""), "a/b/c");
  assert(p.process.memory().rss >= 0);
  assertEquals(p.permissionDenied(new Error("x")), null);
  const off = p.process.onShutdownSignal(() => {});
  off();
});
