/**
 * Fuzz loops (10,000 cases each) over the CLI's authorization inputs: the
 * realm file, `--realm-policy` / `--realm-authority` items, `--exp`/`--nbf`
 * values, and the bodies of `POST /auth/revocations` on a real node. Every
 * bad input is the typed error of its layer (a ConfigError, a UsageError,
 * a 4xx), never another exception.
 */
import { assert } from "../helpers/assert.ts";
import { mutate } from "../helpers/mutate.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";
import { UsageError } from "../../src/cli/args.ts";
import { addToLayer, emptyLayer, parseRealmFile } from "../../src/cli/auth-config.ts";
import { ConfigError } from "../../src/cli/config.ts";
import { parseTimeFlag } from "../../src/cli/time-flags.ts";
import { authRoutes } from "../../src/http/auth-routes.ts";
import { statusHandler } from "../../src/http/status-server.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import { delegate, encodeContainer, revoke, signerFromKeyPair } from "../../src/ucan/mod.ts";

const CASES = 10_000;
const enc = new TextEncoder();
const dec = new TextDecoder();
const did = encodeDidKey(KeyPair.generate().publicKey);

/** `f(text)` either returns or throws an `allowed` error. */
function fuzz(seed: string, allowed: new (...a: never[]) => Error, f: (text: string) => unknown): void {
  const bytes = enc.encode(seed);
  for (let i = 0; i < CASES; i++) {
    const text = dec.decode(mutate(bytes, i));
    try {
      f(text);
    } catch (error) {
      assert(error instanceof allowed, `case ${i} ${JSON.stringify(text)}: ${(error as Error)?.stack ?? error}`);
    }
  }
}

Deno.test("fuzz: the realm file parser throws only ConfigError", () => {
  const seed = JSON.stringify({
    realms: { "io.acme": { policy: "closed", authorities: [did] }, "io.b": { policy: "open", authorities: [] } },
  });
  fuzz(seed, ConfigError, (text) => parseRealmFile(text, "realms.json"));
});

Deno.test("fuzz: --realm-policy and --realm-authority items throw only ConfigError", () => {
  fuzz(`io.acme=closed`, ConfigError, (t) => addToLayer(emptyLayer(), [t], [], "--realm-policy", "--realm-authority"));
  fuzz(`io.acme=${did}`, ConfigError, (t) => addToLayer(emptyLayer(), [], [t], "--realm-policy", "--realm-authority"));
});

Deno.test("fuzz: --exp and --nbf values throw only UsageError", () => {
  for (const seed of ["30m", "2026-12-31T00:00:00Z", "never"]) {
    fuzz(seed, UsageError, (t) => {
      const v = parseTimeFlag(t, "--exp", 1_800_000_000);
      assert(v === null || Number.isSafeInteger(v), String(v));
    });
  }
});

Deno.test("fuzz: POST /auth/revocations answers every mutated body with a 4xx (or 201 for a real revocation)", async () => {
  const authority = signerFromKeyPair(KeyPair.generate());
  const node = await memoryNode(new MemoryNetwork(), {
    realms: ["io.acme"],
    auth: { realms: { "io.acme": { policy: "closed", authorities: [authority.did] } } },
  });
  try {
    const handler = statusHandler(node, [authRoutes(node.auth)], { loopback: true });
    const target = delegate(authority, { aud: node.did, sub: authority.did, cmd: "/macula", exp: null });
    const valid = encodeContainer([revoke(authority, target.cid).bytes]);
    for (let i = 0; i < CASES; i++) {
      // Mutations of the container text, and of the token bytes inside it.
      const body = i % 2 === 0
        ? dec.decode(mutate(enc.encode(valid), i))
        : encodeContainer([mutate(revoke(authority, target.cid).bytes, i)]);
      const res = await handler(new Request("http://x/auth/revocations", { method: "POST", body }));
      const doc = await res.json();
      assert(
        res.status === 201 || (res.status >= 400 && res.status < 500),
        `case ${i}: ${res.status} ${JSON.stringify(doc)}`,
      );
      if (res.status !== 201) assert(typeof doc.code === "string" && doc.code.startsWith("E_"), JSON.stringify(doc));
    }
  } finally {
    await node.stop();
  }
});
