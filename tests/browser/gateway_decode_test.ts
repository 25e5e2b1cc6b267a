/** `/macula/gateway` answers: what a node serves decodes; every malformed answer is a typed error (fuzzed). */
import { BrowserGatewayError, decodeGatewayInfo, fetchGateway, gatewayInfo } from "../../src/browser/gateway.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { mutate } from "../helpers/mutate.ts";

const ID = encodeDidKey(KeyPair.fromSeed(new Uint8Array(32).fill(7)).publicKey);
const GOOD = { id: ID, ws: `ws://127.0.0.1:8080/${ID}`, realms: ["default", "lab"] };

Deno.test("gateway: what a node serves decodes back (ws for http, wss for https, the host the page used)", () => {
  const info = gatewayInfo(new URL("http://10.0.0.5:9000/macula/gateway"), ID, ["default"]);
  assertEquals(info, { id: ID, ws: `ws://10.0.0.5:9000/${ID}`, realms: ["default"] });
  assertEquals(decodeGatewayInfo(JSON.parse(JSON.stringify(info))), info);
  assertEquals(gatewayInfo(new URL("https://gw.example/macula/gateway"), ID, ["a"]).ws, `wss://gw.example/${ID}`);
  assertEquals(decodeGatewayInfo(GOOD), GOOD);
});

Deno.test("gateway: malformed answers are BrowserGatewayError (E_BROWSER_GATEWAY) with a clear message", () => {
  const other = encodeDidKey(KeyPair.fromSeed(new Uint8Array(32).fill(8)).publicKey);
  const bad: [unknown, string][] = [
    [null, "not a JSON object"],
    [[GOOD], "not a JSON object"],
    ["ws://x", "not a JSON object"],
    [{ ...GOOD, id: undefined }, "no id"],
    [{ ...GOOD, id: "did:key:zNope" }, "not a did:key"],
    [{ ...GOOD, id: 5 }, "no id"],
    [{ ...GOOD, ws: "http://127.0.0.1:8080/" + ID }, "not a ws:// or wss://"],
    [{ ...GOOD, ws: `ws://127.0.0.1:8080/${other}` }, "does not end with its id"],
    [{ ...GOOD, ws: `ws://127.0.0.1:8080/x/${ID}` }, "path, query or credentials"],
    [{ ...GOOD, ws: `ws://u:p@127.0.0.1:8080/${ID}` }, "path, query or credentials"],
    [{ ...GOOD, ws: `ws://127.0.0.1:99999/${ID}` }, "not a URL"],
    [{ ...GOOD, realms: [] }, "realms"],
    [{ ...GOOD, realms: "default" }, "realms"],
    [{ ...GOOD, realms: [""] }, "realms"],
    [{ ...GOOD, realms: [1] }, "realms"],
    [{ ...GOOD, realms: Array(65).fill("r") }, "realms"],
  ];
  for (const [value, message] of bad) {
    const error = assertThrows(() => decodeGatewayInfo(value), BrowserGatewayError, message, JSON.stringify(value));
    assertEquals((error as BrowserGatewayError).code, "E_BROWSER_GATEWAY");
  }
});

Deno.test("gateway: 10,000 mutated answers decode or throw BrowserGatewayError, nothing else", () => {
  const bytes = new TextEncoder().encode(JSON.stringify(GOOD));
  let decoded = 0;
  for (let i = 0; i < 10_000; i++) {
    const text = new TextDecoder().decode(mutate(bytes, i));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue; // fetchGateway turns unparsable JSON into BrowserGatewayError before decoding
    }
    try {
      const info = decodeGatewayInfo(value);
      assert(info.ws.endsWith(`/${info.id}`) && info.realms.length > 0, text);
      decoded++;
    } catch (error) {
      assert(error instanceof BrowserGatewayError, `case ${i}: ${text}: ${error}`);
    }
  }
  assert(decoded < 10_000, "mutations must break some answers");
});

Deno.test("gateway: fetchGateway turns an unreachable node, an error status, non-JSON and oversize answers into BrowserGatewayError", async () => {
  const answers: Record<string, () => Response> = {
    "/good/macula/gateway": () => Response.json(GOOD),
    "/status/macula/gateway": () => new Response("no", { status: 503 }),
    "/html/macula/gateway": () => new Response("<html>not json</html>"),
    "/huge/macula/gateway": () => new Response(JSON.stringify({ ...GOOD, pad: "x".repeat(20_000) })),
    "/bad/macula/gateway": () => Response.json({ ...GOOD, ws: "http://nope/" }),
  };
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => answers[new URL(req.url).pathname]?.() ?? new Response("not found", { status: 404 }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  assertEquals(await fetchGateway(new URL(`${base}/good/`)), GOOD);
  const cases: [string, string][] = [
    ["/status/", "answered 503"],
    ["/html/", "not JSON"],
    ["/huge/", "over 16384 characters"],
    ["/bad/", "not a ws:// or wss://"],
    ["/missing/", "answered 404"],
  ];
  for (const [path, message] of cases) {
    await assertRejects(() => fetchGateway(new URL(`${base}${path}`)), BrowserGatewayError, message, path);
  }
  await server.shutdown();
  await assertRejects(() => fetchGateway(new URL(`${base}/good/`)), BrowserGatewayError, "cannot reach the gateway");
});
