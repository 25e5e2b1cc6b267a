/**
 * validateOperation: declared capability, declared resource, covering
 * chain — on real verified chains.
 */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { validateOperation } from "../../src/apps/operation.ts";
import { OperationRefusedError } from "../../src/apps/errors.ts";
import { declares, patternWithin } from "../../src/apps/api-spec.ts";
import { verifyClaim } from "../../src/apps/pipeline.ts";
import type { AppManifest } from "../../src/apps/app.ts";
import type { AppCapability } from "../../src/auth/commands.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { type VerifiedChain, verifyChain } from "../../src/ucan/mod.ts";
import { type ChainSpec, didOf, keys, namespaceChain, nowSeconds } from "./helpers.ts";

const API = {
  topics: ["io.acme.plant3.temp.*", "io.acme.plant3.alerts", "io.other.ns.public.news"],
  procedures: ["io.acme.plant3.weather.get"],
  contentTypes: ["text/csv"],
};

function admitted(
  capabilities: AppCapability[],
  spec: ChainSpec = {},
): { manifest: AppManifest; chain: VerifiedChain } {
  const { authority, owner, appKey } = keys();
  const proof = namespaceChain(authority, owner, appKey, "io.acme", "io.acme.plant3", spec);
  return verifyClaim({ identity: "io.acme.plant3.weather", capabilities, api: API, did: didOf(appKey), proof }, {
    realm: "io.acme",
    verify: (chain, audience) =>
      verifyChain(chain, { audience, roots: new Set([didOf(authority)]), now: nowSeconds() }),
  });
}

function refused(fn: () => void, reason: string): void {
  const e = assertThrows(fn, OperationRefusedError) as OperationRefusedError;
  assertEquals(e.reason, reason);
  assertEquals(e instanceof NotAuthorizedError, true);
  assertEquals(e.code, "E_NOT_AUTHORIZED");
}

Deno.test("validateOperation: an app that declared only subscribe cannot publish", () => {
  const { manifest, chain } = admitted(["subscribe"]);
  validateOperation(manifest, chain, "subscribe", "io.acme.plant3.alerts");
  validateOperation(manifest, chain, "subscribe", "io.acme.plant3.temp.*");
  validateOperation(manifest, chain, "subscribe", "io.acme.plant3.temp.kitchen");
  refused(() => validateOperation(manifest, chain, "publish", "io.acme.plant3.alerts"), "capability_not_declared");
  refused(() => validateOperation(manifest, chain, "call", "io.acme.plant3.weather.get"), "capability_not_declared");
  refused(
    () => validateOperation(manifest, chain, "register", "io.acme.plant3.weather.get"),
    "capability_not_declared",
  );
  refused(() => validateOperation(manifest, chain, "consume_content", "text/csv"), "capability_not_declared");
});

Deno.test("validateOperation: resources outside the declared API are refused", () => {
  const all: AppCapability[] = ["publish", "subscribe", "call", "register", "provide_content", "consume_content"];
  const { manifest, chain } = admitted(all);
  validateOperation(manifest, chain, "publish", "io.acme.plant3.temp.kitchen");
  validateOperation(manifest, chain, "call", "io.acme.plant3.weather.get");
  validateOperation(manifest, chain, "register", "io.acme.plant3.weather.get");
  validateOperation(manifest, chain, "provide_content", "text/csv");
  validateOperation(manifest, chain, "consume_content", "text/csv");
  for (
    const [op, resource] of [
      ["publish", "io.acme.plant3.temp"], // the pattern needs one more segment
      ["publish", "io.acme.plant3.temp.a.b"],
      ["publish", "io.acme.plant3.other"],
      ["subscribe", "io.acme.plant3.>"], // broader than any declared pattern
      ["subscribe", "io.acme.plant3.*"],
      ["call", "io.acme.plant3.weather.set"],
      ["register", "io.acme.plant3.weather"],
      ["provide_content", "image/png"],
      ["consume_content", "text/csv2"],
      ["publish", 42 as unknown as string],
    ] as Array<[AppCapability, string]>
  ) {
    refused(() => validateOperation(manifest, chain, op, resource), "resource_not_declared");
  }
});

Deno.test("validateOperation: the chain must cover the operation", () => {
  // a chain confined to pub/sub: declared call/register/content are not covered
  const { manifest, chain } = admitted(["publish", "subscribe"], { cmd: "/macula/pubsub" });
  validateOperation(manifest, chain, "publish", "io.acme.plant3.alerts");
  const widened = {
    ...manifest,
    capabilities: [...manifest.capabilities, "call", "provide_content"] as AppCapability[],
  };
  refused(() => validateOperation(widened, chain, "call", "io.acme.plant3.weather.get"), "not_covered");
  refused(() => validateOperation(widened, chain, "provide_content", "text/csv"), "not_covered");
  // a manifest widened beyond its namespace: the chain does not cover it
  const outside = { ...manifest, api: { ...manifest.api, topics: ["io.acme.plant4.t"] } };
  refused(() => validateOperation(outside, chain, "publish", "io.acme.plant4.t"), "not_covered");
  // another namespace's public topic: subscribing needs only membership, publishing is not covered
  validateOperation(manifest, chain, "subscribe", "io.other.ns.public.news");
  refused(() => validateOperation(manifest, chain, "publish", "io.other.ns.public.news"), "not_covered");
  // the realm is an argument too: a policy on .realm confines it
  const realmBound = admitted(["publish"], {
    pol: [["==", ".realm", "io.acme"], ["or", [["==", ".name", "io.acme.plant3"], [
      "like",
      ".name",
      "io.acme.plant3.*",
    ]]]],
  });
  validateOperation(realmBound.manifest, realmBound.chain, "publish", "io.acme.plant3.alerts");
  refused(
    () =>
      validateOperation(
        { ...realmBound.manifest, realm: "io.other" },
        realmBound.chain,
        "publish",
        "io.acme.plant3.alerts",
      ),
    "not_covered",
  );
});

Deno.test("patternWithin and declares", () => {
  const cases: Array<[string, string, boolean]> = [
    ["a.b.c", "a.b.c", true],
    ["a.b.c", "a.*.c", true],
    ["a.*.c", "a.b.c", false],
    ["a.*.c", "a.*.c", true],
    ["a.*.c", "a.>", true],
    ["a.>", "a.>", true],
    ["a.>", "a.*", false],
    ["a.b.>", "a.>", true],
    ["a", "a.>", false],
    ["a.b", "a.b.c", false],
    ["a.b.c", "a.b", false],
    [">", ">", true],
    ["a.b", ">", true],
  ];
  for (const [inner, outer, want] of cases) assertEquals(patternWithin(inner, outer), want, `${inner} within ${outer}`);
  const api = { topics: ["x.y.*"], procedures: ["x.y.p"], contentTypes: ["t"] };
  assertEquals(declares(api, "publish", "x.y.z"), true);
  assertEquals(declares(api, "publish", "x.y.*"), false); // a pattern is not a topic one can publish to
  assertEquals(declares(api, "subscribe", "x.y.>"), false);
  assertEquals(declares(api, "call", "x.y.p"), true);
  assertEquals(declares(api, "provide_content", "t"), true);
});
