/**
 * The gatekeeper's costs, in one process on an in-memory node:
 *
 * 1. the per-operation check of an app's handle (`validateOperation` plus
 *    the handle's health/expiry/metrics bookkeeping), next to the bare
 *    `VerifiedChain.covers` it contains, same run;
 * 2. one admission (`node.apps.admit`: pipeline, health, the link to the
 *    node, `addChain`, wiring) and its withdrawal, median over many.
 *
 * Run: `deno run --allow-all --unstable-net bench/apps_bench.ts`.
 *
 * @module
 */
import { Node } from "../src/api/node.ts";
import type { AdmittedApp } from "../src/apps/handle.ts";
import { validateOperation } from "../src/apps/operation.ts";
import type { MeshApp } from "../src/apps/app.ts";
import { namespacePolicy } from "../src/auth/namespace.ts";
import { encodeDidKey } from "../src/identity/did.ts";
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import { delegate, type Policy, signerFromKeyPair } from "../src/ucan/mod.ts";

const did = (k: KeyPair) => encodeDidKey(k.publicKey);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median ns per call of `fn` over `rounds` rounds of `n` calls. */
function perCall(fn: () => void, n = 200_000, rounds = 7): number {
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    results.push((performance.now() - t0) * 1e6 / n);
  }
  return median(results);
}

const app = (identity: string): MeshApp => ({
  meshIdentity: () => identity,
  meshCapabilities: () => ["publish", "subscribe", "register"],
  meshApi: () => ({
    topics: ["io.acme.plant3.weather.>"],
    procedures: [`${identity}.get`],
    contentTypes: [],
  }),
  handleMeshEvent: () => {},
  handleRpcCall: () => null,
  provideContent: () => undefined,
  contentReceived: () => {},
  meshHealth: () => true,
});

const authority = KeyPair.generate();
const owner = KeyPair.generate();
const exp = Math.floor(Date.now() / 1000) + 3600;
const root = delegate(signerFromKeyPair(authority), {
  aud: did(owner),
  sub: did(authority),
  cmd: "/macula",
  pol: namespacePolicy("io.acme.plant3") as unknown as Policy,
  exp,
});
const proofFor = (key: KeyPair) => [
  root,
  delegate(signerFromKeyPair(owner), {
    aud: did(key),
    sub: did(authority),
    cmd: "/macula",
    pol: namespacePolicy("io.acme.plant3") as unknown as Policy,
    exp,
  }),
];

const node = await Node.start({
  keyPair: KeyPair.generate(),
  memory: { network: new MemoryNetwork(), name: "bench" },
  logger: Logger.silent(),
  realms: ["io.acme"],
  auth: { realms: { "io.acme": { policy: "closed", authorities: [did(authority)] } } },
});
try {
  const key = KeyPair.generate();
  const handle = await node.apps.admit(app("io.acme.plant3.weather"), { proof: proofFor(key), key }) as AdmittedApp;
  const topic = "io.acme.plant3.weather.updates";
  const args = { realm: "io.acme", name: topic };
  const covers = perCall(() => handle.chain.covers("/macula/pubsub/publish", args));
  const validate = perCall(() => validateOperation(handle.manifest, handle.chain, "publish", topic));
  const gate = perCall(() => handle.gate("publish", topic));
  console.log(`chain.covers (3 links, baseline)      ${covers.toFixed(0).padStart(6)} ns`);
  console.log(
    `validateOperation                     ${validate.toFixed(0).padStart(6)} ns  ${(validate / covers).toFixed(2)}×`,
  );
  console.log(
    `handle check (validate + bookkeeping) ${gate.toFixed(0).padStart(6)} ns  ${(gate / covers).toFixed(2)}×`,
  );
  await handle.withdraw();

  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const k = KeyPair.generate();
    const proof = proofFor(k);
    const t0 = performance.now();
    const h = await node.apps.admit(app(`io.acme.plant3.app${i}`), { proof, key: k });
    times.push(performance.now() - t0);
    await h.withdraw();
  }
  console.log(`admission (pipeline, health, link, addChain, wiring): median ${(median(times) * 1000).toFixed(0)} µs`);
} finally {
  await node.stop();
}
