/**
 * The admission pipeline's steps 1–4 on their own (real signatures, real
 * chain verification), every error in the order of the steps.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { checkCallbacks, type ClaimOptions, verifyClaim } from "../../src/apps/pipeline.ts";
import { AdmissionError } from "../../src/apps/errors.ts";
import { MESH_CALLBACKS } from "../../src/apps/app.ts";
import { delegate, encodeContainer, signerFromKeyPair, verifyChain } from "../../src/ucan/mod.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { sha256 } from "../../src/crypto/mod.ts";
import { toHex } from "../../src/util/bytes.ts";
import { didOf, keys, namespaceChain, nowSeconds, testApp } from "./helpers.ts";

const REALM = "io.acme";

function options(authority: KeyPair, extra: { revoked?: Set<string>; now?: number } = {}): ClaimOptions {
  return {
    realm: REALM,
    verify: (chain, audience) =>
      verifyChain(chain, {
        audience,
        roots: new Set([didOf(authority)]),
        now: extra.now ?? nowSeconds(),
        isRevoked: (cid) => extra.revoked?.has(cid) ?? false,
      }),
  };
}

const API = {
  topics: ["io.acme.plant3.temp.*"],
  procedures: ["io.acme.plant3.weather.get"],
  contentTypes: ["text/csv"],
};

function step(fn: () => unknown): AdmissionError {
  const error = assertThrows(fn, AdmissionError);
  return error as AdmissionError;
}

Deno.test("pipeline: a valid claim gives the manifest (namespace, fingerprint, expiry)", () => {
  const { authority, owner, appKey } = keys();
  const proof = namespaceChain(authority, owner, appKey, "io.acme", "io.acme.plant3");
  const { manifest, chain } = verifyClaim({
    identity: "io.acme.plant3.weather",
    capabilities: ["publish", "subscribe", "call", "register", "provide_content", "consume_content"],
    api: API,
    did: didOf(appKey),
    proof: encodeContainer(proof.map((d) => d.bytes)),
  }, options(authority));
  assertEquals(manifest.identity, "io.acme.plant3.weather");
  assertEquals(manifest.namespace, "io.acme.plant3");
  assertEquals(manifest.realm, REALM);
  assertEquals(manifest.did, didOf(appKey));
  assertEquals(manifest.keyFingerprint, toHex(sha256(appKey.publicKey)));
  assertEquals(manifest.keyFingerprint.length, 64);
  assertEquals(manifest.expires, proof[0].exp);
  assertEquals(manifest.api, API);
  assert(!Number.isNaN(Date.parse(manifest.verifiedAt)));
  assertEquals(chain.audience, didOf(appKey));
  assertEquals(chain.subject, didOf(authority));
});

Deno.test("pipeline step 1: missing callbacks are named", () => {
  const app = testApp("io.acme.plant3.weather", []);
  checkCallbacks(app);
  const partial = { ...app } as Record<string, unknown>;
  delete partial.meshHealth;
  partial.provideContent = "not a function";
  const e = step(() => checkCallbacks(partial));
  assertEquals(e.step, "missing_callbacks");
  assertEquals(e.details, ["provideContent", "meshHealth"]);
  assertEquals(step(() => checkCallbacks(null)).details, MESH_CALLBACKS);
  // methods of a class count (they live on the prototype)
  class ClassApp {
    meshIdentity() {
      return "io.acme.plant3.weather";
    }
  }
  for (const name of MESH_CALLBACKS.slice(1)) {
    (ClassApp.prototype as unknown as Record<string, unknown>)[name] = () => true;
  }
  checkCallbacks(new ClassApp());
  assertEquals(step(() => checkCallbacks("app")).details, MESH_CALLBACKS);
});

Deno.test("pipeline step 2: invalid identities", () => {
  const { authority, owner, appKey } = keys();
  const proof = namespaceChain(authority, owner, appKey, "io.acme");
  for (
    const [identity, reason] of [
      ["io.acme", "insufficient_segments"],
      ["io.Acme.plant3", "invalid_segment"],
      ["io..plant3", "invalid_segment"],
      ["", "invalid_format"],
      [42, "invalid_format"],
      [undefined, "invalid_format"],
    ] as const
  ) {
    const e = step(() =>
      verifyClaim({ identity, capabilities: [], api: API, did: didOf(appKey), proof }, options(authority))
    );
    assertEquals(e.step, "invalid_identity", String(identity));
    assertEquals(e.details, reason, String(identity));
  }
});

Deno.test("pipeline step 2: a proof that is unreadable, forged, expired, stolen, revoked or not from the authority is invalid_proof", () => {
  const { authority, owner, appKey } = keys();
  const good = namespaceChain(authority, owner, appKey, "io.acme");
  const claim = (proof: unknown, did = didOf(appKey)) => ({
    identity: "io.acme.plant3.weather",
    capabilities: [],
    api: API,
    did,
    proof: proof as string,
  });
  const cases: Array<[string, () => unknown]> = [
    ["garbage text", () => verifyClaim(claim("not a container"), options(authority))],
    ["empty chain", () => verifyClaim(claim([]), options(authority))],
    ["not a did:key", () => verifyClaim(claim(good, "did:web:example.com"), options(authority))],
    ["stolen: another key presents it", () => verifyClaim(claim(good, didOf(KeyPair.generate())), options(authority))],
    ["expired", () =>
      verifyClaim(
        claim(namespaceChain(authority, owner, appKey, "io.acme", "io.acme", { exp: nowSeconds() - 3600 })),
        options(authority),
      )],
    ["not yet valid", () =>
      verifyClaim(
        claim(namespaceChain(authority, owner, appKey, "io.acme", "io.acme", { nbf: nowSeconds() + 3600 })),
        options(authority),
      )],
    ["revoked middle link", () => verifyClaim(claim(good), options(authority, { revoked: new Set([good[0].id]) }))],
    [
      "broken chain (aud ≠ next iss)",
      () =>
        verifyClaim(
          claim([good[0], namespaceChain(authority, KeyPair.generate(), appKey, "io.acme")[1]]),
          options(authority),
        ),
    ],
    [
      "rooted at another key",
      () => verifyClaim(claim(namespaceChain(KeyPair.generate(), owner, appKey, "io.acme")), options(authority)),
    ],
  ];
  // A forged signature: flip one byte of the signature in the container.
  const text = encodeContainer(good.map((d) => d.bytes));
  const bytes = good[1].bytes.slice();
  bytes[5] ^= 1;
  cases.push([
    "forged signature",
    () => verifyClaim(claim(encodeContainer([good[0].bytes, bytes])), options(authority)),
  ]);
  for (const [what, run] of cases) {
    const e = step(run);
    assertEquals(e.step, "invalid_proof", what);
  }
  // the UCAN error is inside
  const expired = step(() =>
    verifyClaim(
      claim(namespaceChain(authority, owner, appKey, "io.acme", "io.acme", { exp: nowSeconds() - 3600 })),
      options(authority),
    )
  );
  assert(expired.cause instanceof Error && expired.cause.name === "Expired", String(expired.cause));
  assert(verifyClaim(claim(text), options(authority)).manifest);
});

Deno.test("pipeline step 2: a proof for another namespace is not_namespace_owner (whole segments)", () => {
  const { authority, owner, appKey } = keys();
  const run = (identity: string, ns: string) =>
    verifyClaim(
      {
        identity,
        capabilities: [],
        api: { topics: [], procedures: [], contentTypes: [] },
        did: didOf(appKey),
        proof: namespaceChain(authority, owner, appKey, "io.acme", ns),
      },
      options(authority),
    );
  assertEquals(step(() => run("io.acme.plant3.weather", "io.acme.other")).step, "not_namespace_owner");
  // segment confusion: io.acme.user does not contain io.acme.username.app
  const e = step(() => run("io.acme.username.app", "io.acme.user"));
  assertEquals(e.step, "not_namespace_owner");
  assert(e.message.includes("io.acme.username.app"));
  // a parent namespace covers it; the namespace is the shortest covered prefix
  assertEquals(run("io.acme.user.app", "io.acme.user").manifest.namespace, "io.acme.user");
  assertEquals(run("io.acme.user", "io.acme.user").manifest.namespace, "io.acme.user");
  // a namespace has at least three segments, however broad the proof
  assertEquals(run("io.acme.user.a.b", "io.acme").manifest.namespace, "io.acme.user");
  // a policy naming only the identity: the namespace is the identity itself
  const exact = verifyClaim({
    identity: "io.acme.plant3.weather",
    capabilities: [],
    api: { topics: ["io.acme.plant3.weather.x"], procedures: [], contentTypes: [] },
    did: didOf(appKey),
    proof: namespaceChain(authority, owner, appKey, "io.acme", "io.acme", {
      pol: [["==", ".name", "io.acme.plant3.weather"]],
    }),
  }, options(authority));
  assertEquals(exact.manifest.namespace, "io.acme.plant3.weather");
  // a proof for commands outside /macula covers no app operation
  const other = delegate(signerFromKeyPair(authority), {
    aud: didOf(appKey),
    sub: didOf(authority),
    cmd: "/storage",
    exp: nowSeconds() + 60,
  });
  assertEquals(
    step(() =>
      verifyClaim(
        { identity: "io.acme.plant3.weather", capabilities: [], api: API, did: didOf(appKey), proof: [other] },
        options(authority),
      )
    ).step,
    "not_namespace_owner",
  );
});

Deno.test("pipeline step 3: unknown, duplicate, uncovered and unavailable capabilities", () => {
  const { authority, owner, appKey } = keys();
  const proof = namespaceChain(authority, owner, appKey, "io.acme");
  const run = (capabilities: unknown, opts = options(authority), p = proof) =>
    verifyClaim({ identity: "io.acme.plant3.weather", capabilities, api: API, did: didOf(appKey), proof: p }, opts);
  let e = step(() => run(["publish", "teleport"]));
  assertEquals([e.step, e.details], ["invalid_capability", { invalid: ["teleport"], duplicates: [] }]);
  e = step(() => run(["publish", "publish"]));
  assertEquals(e.details, { invalid: [], duplicates: ["publish"] });
  assertEquals(step(() => run("publish")).step, "invalid_capability");
  assertEquals(step(() => run([7])).step, "invalid_capability");
  // a pub/sub-only proof does not cover call
  const pubsubOnly = namespaceChain(authority, owner, appKey, "io.acme", "io.acme", { cmd: "/macula/pubsub" });
  assertEquals(run(["publish", "subscribe"], options(authority), pubsubOnly).manifest.capabilities, [
    "publish",
    "subscribe",
  ]);
  e = step(() => run(["publish", "call"], options(authority), pubsubOnly));
  assertEquals([e.step, e.details], ["invalid_capability", { uncovered: ["call"] }]);
  // content capabilities on a node without content
  e = step(() => run(["consume_content"], { ...options(authority), available: (c) => !c.endsWith("content") }));
  assertEquals([e.step, e.details], ["invalid_capability", { unavailable: ["consume_content"] }]);
  assertEquals(run([]).manifest.capabilities, []);
});

Deno.test("pipeline step 4: API entries malformed or outside the namespace", () => {
  const { authority, owner, appKey } = keys();
  const proof = namespaceChain(authority, owner, appKey, "io.acme", "io.acme.plant3");
  const run = (api: unknown, capabilities = ["publish", "subscribe", "register"]) =>
    verifyClaim(
      { identity: "io.acme.plant3.weather", capabilities, api, did: didOf(appKey), proof },
      options(authority),
    );
  const entries = (api: unknown) => {
    const e = step(() => run(api));
    assertEquals(e.step, "invalid_api_entries");
    return (e.details as Array<{ entry: unknown }>).map((p) => p.entry);
  };
  const base = { topics: [], procedures: [], contentTypes: [] };
  assertEquals(entries({ ...base, topics: ["io.acme.plant4.temp", "io.acme.plant3.temp", "io.acme.plant3x.t"] }), [
    "io.acme.plant4.temp",
    "io.acme.plant3x.t",
  ]);
  assertEquals(entries({ ...base, topics: ["io.acme.*.temp", "io.acme.plant3.>.x", 5] }), [
    "io.acme.*.temp",
    "io.acme.plant3.>.x",
    5,
  ]);
  assertEquals(entries({ ...base, procedures: ["io.acme.plant3.get", "io.acme.plant3.*", "io.other.ns.get"] }), [
    "io.acme.plant3.*",
    "io.other.ns.get",
  ]);
  assertEquals(entries({ ...base, contentTypes: ["", "text/plain", "a\u0000b", "x".repeat(256)] }), [
    "",
    "a\u0000b",
    "x".repeat(256),
  ]);
  assertEquals(entries({ ...base, topics: Array.from({ length: 257 }, (_, i) => `io.acme.plant3.t${i}`) }), [257]);
  assertEquals(entries(null), [null]);
  assertEquals(entries({ topics: "io.acme.plant3.t", procedures: [], contentTypes: [] }), ["io.acme.plant3.t"]);
  assertEquals(entries({ topics: [], procedures: [] }), [undefined]);
  // public topics of other namespaces may be subscribed to; patterns inside the namespace are fine
  const ok = run({ ...base, topics: ["io.other.ns.public.temp", "io.acme.plant3.temp.*", "io.acme.plant3.>"] });
  assertEquals(ok.manifest.api.topics.length, 3);
  // entries inside the namespace that the proof does not cover for the wiring (subscribe, register)
  const narrow = namespaceChain(authority, owner, appKey, "io.acme", "io.acme", {
    pol: [["or", [["==", ".name", "io.acme.plant3"], ["==", ".name", "io.acme.plant3.weather"]]]],
  });
  const e = step(() =>
    verifyClaim({
      identity: "io.acme.plant3.weather",
      capabilities: ["subscribe", "register"],
      api: { ...base, topics: ["io.acme.plant3.t"], procedures: ["io.acme.plant3.get"] },
      did: didOf(appKey),
      proof: narrow,
    }, options(authority))
  );
  assertEquals(e.step, "invalid_api_entries");
  assertEquals((e.details as Array<{ entry: unknown }>).map((p) => p.entry), [
    "io.acme.plant3.t",
    "io.acme.plant3.get",
  ]);
  // without those capabilities, nothing is wired, so nothing needs covering at admission
  assertEquals(
    verifyClaim({
      identity: "io.acme.plant3.weather",
      capabilities: [],
      api: { ...base, topics: ["io.acme.plant3.t"] },
      did: didOf(appKey),
      proof: narrow,
    }, options(authority)).manifest.namespace,
    "io.acme.plant3",
  );
});

Deno.test("pipeline: the first failing step is reported", () => {
  const { authority, owner, appKey } = keys();
  const foreign = namespaceChain(authority, owner, appKey, "io.acme", "io.acme.other");
  const bad = {
    identity: "io.acme.plant3.weather",
    capabilities: ["teleport"],
    api: { topics: [5] },
    did: didOf(appKey),
  };
  // ownership first, then capabilities, then the API
  assertEquals(step(() => verifyClaim({ ...bad, proof: foreign }, options(authority))).step, "not_namespace_owner");
  const proof = namespaceChain(authority, owner, appKey, "io.acme");
  assertEquals(step(() => verifyClaim({ ...bad, proof }, options(authority))).step, "invalid_capability");
  assertEquals(
    step(() => verifyClaim({ ...bad, capabilities: [], proof }, options(authority))).step,
    "invalid_api_entries",
  );
  assertEquals(
    step(() => verifyClaim({ ...bad, identity: "io.x", proof: "garbage" }, options(authority))).step,
    "invalid_identity",
  );
});
