/** Token rules, read-only and CSRF refusals, actions through a real status server. */
import { joinedNodes, MemoryNetwork } from "../helpers/nodes.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { serveConsole } from "./helpers.ts";
import { loadConsoleToken, sameToken } from "../../src/console/token.ts";
import { startStatusServer } from "../../src/http/status-server.ts";
import { currentPlatform } from "../../src/platform/current.ts";

const TOKEN = "A".repeat(43);

Deno.test("token: forced on loopback: 401 without, 200 with the bearer, the cookie flow, /health and /ready open", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  const web = await serveConsole(a, {}, { requireToken: true, token: TOKEN, tokenHint: "see data/console-token" });
  try {
    for (const path of ["/console", "/status", "/peers", "/metrics", "/console/events", "/"]) {
      const res = await fetch(`${web.base}${path}`, { redirect: "manual" });
      assertEquals(res.status, 401, path);
      const body = await res.json();
      assertEquals(body.code, "E_CONSOLE_TOKEN");
      assert(String(body.error).includes("see data/console-token"), body.error);
    }
    const wrong = await fetch(`${web.base}/status`, { headers: { authorization: `Bearer ${"B".repeat(43)}` } });
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();
    const ok = await fetch(`${web.base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assertEquals(ok.status, 200);
    assertEquals((await ok.json()).id, a.did);
    for (const path of ["/health", "/ready"]) {
      const res = await fetch(`${web.base}${path}`);
      assertEquals(res.status, 200, path);
      await res.body?.cancel();
    }
    // The cookie flow: ?token= sets the cookie and redirects to /console (the token leaves the URL).
    const badLink = await fetch(`${web.base}/console?token=nope`, { redirect: "manual" });
    assertEquals(badLink.status, 401);
    await badLink.body?.cancel();
    const link = await fetch(`${web.base}/console?token=${TOKEN}`, { redirect: "manual" });
    assertEquals(link.status, 302);
    assertEquals(link.headers.get("location"), "/console");
    const cookie = link.headers.get("set-cookie")!;
    assert(/HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie) && /Path=\//.test(cookie), cookie);
    await link.body?.cancel();
    const page = await fetch(`${web.base}/console`, { headers: { cookie: cookie.split(";")[0] } });
    assertEquals(page.status, 200);
    assert((await page.text()).includes("<html"));
  } finally {
    await web.close();
    await a.stop();
  }
});

Deno.test("token: a non-loopback status server without a token is refused at start", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  try {
    await assertRejects(
      () => startStatusServer(a, currentPlatform().http, "0.0.0.0", 0),
      TypeError,
      "needs options.token",
    );
  } finally {
    await a.stop();
  }
});

Deno.test("token: kept in <dataDir>/console-token (0600), the same on the next start; in memory without a data dir", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fs = currentPlatform().fs;
    const first = await loadConsoleToken(fs, dir);
    assert(/^[A-Za-z0-9_-]{43}$/.test(first.token), first.token);
    assertEquals(first.path, `${dir}/console-token`);
    assertEquals((await Deno.stat(first.path!)).mode! & 0o777, 0o600);
    assertEquals((await loadConsoleToken(fs, dir)).token, first.token);
    await Deno.writeTextFile(first.path!, "garbage");
    const replaced = await loadConsoleToken(fs, dir);
    assert(replaced.token !== first.token && replaced.token.length === 43, "a malformed file is replaced");
    const mem = await loadConsoleToken(fs, undefined);
    assertEquals(mem.path, undefined);
    assert(mem.token !== (await loadConsoleToken(fs, undefined)).token);
    assert(sameToken(TOKEN, TOKEN) && !sameToken(TOKEN, TOKEN.slice(1)) && !sameToken(TOKEN, "B" + TOKEN.slice(1)));
    assert(!sameToken(TOKEN, ""));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function post(base: string, kind: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/console/actions/${kind}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

Deno.test("actions: ping, publish and call work; their failures come back typed", async () => {
  const [a, b] = await joinedNodes(new MemoryNetwork(), 2);
  const web = await serveConsole(a);
  try {
    b.advertise("console.add", (args) => (args as number[]).reduce((x, y) => x + y, 0));
    const ping = await (await post(web.base, "ping", { kind: "ping", peer: b.did })).json();
    assertEquals(ping.ok, true);
    assert(typeof ping.result.rtt === "number");
    const pub = await post(web.base, "publish", { topic: "console.test", payload: "hello" });
    assertEquals(pub.status, 200);
    assertEquals((await pub.json()).ok, true);
    const call = await (await post(web.base, "call", { procedure: "console.add", args: [2, 3], timeout: 5000 })).json();
    assertEquals(call, { ok: true, result: 5 });
    const none = await post(web.base, "call", { procedure: "console.missing", args: null, timeout: 500 });
    assert(none.status >= 500, `status ${none.status}`);
    const noneBody = await none.json();
    assertEquals(noneBody.ok, false);
    assert(typeof noneBody.code === "string" && noneBody.code.startsWith("E_"), noneBody.code);
    const badTopic = await post(web.base, "publish", { topic: "bad topic!", payload: "x" });
    assertEquals(badTopic.status, 400);
    assertEquals((await badTopic.json()).code, "E_TOPIC_INVALID");
  } finally {
    await web.close();
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("actions: read-only 403, wrong content type 415, cross-origin 403, too large 413, bad JSON 400", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  const ro = await serveConsole(a, { readonly: true });
  const rw = await serveConsole(a);
  try {
    const r = await post(ro.base, "publish", { topic: "t", payload: "x" });
    assertEquals(r.status, 403);
    assertEquals((await r.json()).code, "E_CONSOLE_READONLY");
    const snap = await (await fetch(`${ro.base}/console/snapshot`)).json();
    assertEquals(snap.readonly, true);
    const text = await fetch(`${rw.base}/console/actions/publish`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ topic: "t", payload: "x" }),
    });
    assertEquals(text.status, 415);
    assertEquals((await text.json()).code, "E_CONSOLE_CONTENT_TYPE");
    const csrf = await post(rw.base, "publish", { topic: "t", payload: "x" }, { origin: "http://evil.example" });
    assertEquals(csrf.status, 403);
    assertEquals((await csrf.json()).code, "E_CONSOLE_ORIGIN");
    const same = await post(rw.base, "publish", { topic: "t", payload: "x" }, { origin: rw.base });
    assertEquals(same.status, 200);
    await same.body?.cancel();
    const big = await post(rw.base, "publish", { topic: "t", payload: "x".repeat(70_000) });
    assertEquals(big.status, 413);
    assertEquals((await big.json()).code, "E_CONSOLE_TOO_LARGE");
    const bad = await post(rw.base, "publish", "{nope");
    assertEquals(bad.status, 400);
    assertEquals((await bad.json()).code, "E_CONSOLE_ACTION");
    const get = await fetch(`${rw.base}/console/actions/publish`);
    assertEquals(get.status, 405);
    await get.body?.cancel();
    const unknown = await post(rw.base, "reboot", {});
    assertEquals(unknown.status, 400);
    await unknown.body?.cancel();
  } finally {
    await ro.close();
    await rw.close();
    await a.stop();
  }
});
