/**
 * Manifest files (`macula app verify manifest.json`): steps 2–4 on JSON,
 * bad input, and a fuzz loop of the manifest decoder.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { ManifestError, manifestFromJson, verifyManifest } from "../../src/apps/manifest-file.ts";
import { AdmissionError } from "../../src/apps/errors.ts";
import { encodeContainer } from "../../src/ucan/mod.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { didOf, keys, namespaceChain, nowSeconds } from "./helpers.ts";

function manifestJson(extra: Record<string, unknown> = {}) {
  const { authority, owner, appKey } = keys();
  const proof = encodeContainer(
    namespaceChain(authority, owner, appKey, "io.acme", "io.acme.plant3").map((d) => d.bytes),
  );
  const json = {
    identity: "io.acme.plant3.weather",
    capabilities: ["subscribe", "publish"],
    api: { topics: ["io.acme.plant3.weather.updates"], procedures: [], contentTypes: [] },
    did: didOf(appKey),
    proof,
    ...extra,
  };
  return { json, authority, appKey };
}

Deno.test("manifest file: a valid manifest verifies against the realm's authority", () => {
  const { json, authority, appKey } = manifestJson();
  const check = verifyManifest(JSON.stringify(json), { realm: "io.acme", roots: [didOf(authority)] });
  assert(check.ok, check.ok ? "" : check.error.message);
  assertEquals(check.manifest.namespace, "io.acme.plant3");
  assertEquals(check.manifest.did, didOf(appKey));
  assertEquals(check.chain.links.length, 2);
  // an object works as well as its text
  assert(verifyManifest(json, { realm: "io.acme", roots: [didOf(authority)] }).ok);
  // another authority: invalid_proof
  const other = verifyManifest(json, { realm: "io.acme", roots: [didOf(KeyPair.generate())] });
  assert(!other.ok && other.error instanceof AdmissionError && other.error.step === "invalid_proof");
  // checked at a time after expiry
  const late = verifyManifest(json, { roots: [didOf(authority)], now: nowSeconds() + 7200 });
  assert(!late.ok && (late.error as AdmissionError).step === "invalid_proof");
});

Deno.test("manifest file: each failing step is named", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ identity: "io.acme" }, "invalid_identity"],
    [{ identity: "io.acme.plant4.weather" }, "not_namespace_owner"],
    [{ capabilities: ["fly"] }, "invalid_capability"],
    [{ api: { topics: ["io.acme.plant4.x"], procedures: [], contentTypes: [] } }, "invalid_api_entries"],
    [{ did: 7 }, "invalid_proof"],
    [{ proof: undefined }, "invalid_proof"],
    [{ proof: "AAAA" }, "invalid_proof"],
  ];
  for (const [extra, want] of cases) {
    const { json, authority } = manifestJson(extra);
    const check = verifyManifest(json, { roots: [didOf(authority)] });
    assert(!check.ok, want);
    assertEquals((check.error as AdmissionError).step, want);
  }
});

Deno.test("manifest file: bad input is a ManifestError", () => {
  for (const bad of ["", "{", "[]", "null", "42", '"text"', "x".repeat(300_000)]) {
    assertThrows(() => manifestFromJson(bad), ManifestError);
    const check = verifyManifest(bad);
    assert(!check.ok && check.error instanceof ManifestError, bad.slice(0, 20));
  }
  assertThrows(() => manifestFromJson(null), ManifestError);
  assertThrows(() => manifestFromJson([1]), ManifestError);
  assertEquals(manifestFromJson({ did: "d", proof: "p", identity: "i" }).identity, "i");
});

Deno.test("manifest file: 10,000 mutated and random manifests fail only with typed errors", () => {
  const { json, authority } = manifestJson();
  const text = JSON.stringify(json);
  let seed = 0x5eed;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = '{}[]":,.0123456789abcdefghijklmnopqrstuvwxyz_-/\\ \u0000é';
  const values: unknown[] = [null, 0, -1, 1.5, "", "x", [], {}, true, [null], { topics: {} }, "io.acme.plant3.x"];
  const fields = ["identity", "capabilities", "api", "did", "proof"];
  let ok = 0;
  for (let i = 0; i < 10_000; i++) {
    let input: unknown;
    switch (i % 4) {
      case 0: { // byte-level mutation of the text
        const chars = [...text];
        for (let k = 0; k < 1 + rand(4); k++) chars[rand(chars.length)] = alphabet[rand(alphabet.length)];
        input = chars.join("");
        break;
      }
      case 1: // truncation
        input = text.slice(0, rand(text.length));
        break;
      case 2: { // a field replaced by a random value
        const copy: Record<string, unknown> = structuredClone(json);
        copy[fields[rand(fields.length)]] = values[rand(values.length)];
        const api = copy.api as Record<string, unknown>;
        if (rand(2) && typeof api === "object" && api !== null) {
          api[["topics", "procedures", "contentTypes"][rand(3)]] = values[rand(values.length)];
        }
        input = copy;
        break;
      }
      default: // random text
        input = Array.from({ length: rand(64) }, () => alphabet[rand(alphabet.length)]).join("");
    }
    const check = verifyManifest(input, { roots: [didOf(authority)] });
    if (check.ok) ok++;
    else assert(check.error instanceof AdmissionError || check.error instanceof ManifestError);
  }
  assert(ok < 10_000);
});
