/**
 * UCAN validation cost, against one raw Ed25519 verify measured in the same
 * run (the unavoidable floor: a 3-link chain needs three).
 *
 * - cold: a 3-link chain never seen before (fresh keys for every run, so
 *   not even the did:key cache helps): decode its 3 tokens (strict DAG-CBOR,
 *   re-encode check, signature, CID), `verifyChain`, then `covers` once.
 * - cached per-operation check: `covers` on an already verified chain
 *   (what a node does per message once the chain is cached).
 *
 * Every figure is a median over many runs, the baseline interleaved with
 * the cold runs. Ends with one `BENCH_JSON {...}` line.
 *
 * Run: `deno task bench:ucan [runs, default 2000]`
 *
 * @module
 */
import { namespacePolicy } from "../src/auth/namespace.ts";
import { operationInvocation } from "../src/auth/commands.ts";
import { KeyPair, verify } from "../src/identity/ed25519.ts";
import { delegate, Delegation, signerFromKeyPair, verifyChain } from "../src/ucan/mod.ts";

const RUNS = Number(Deno.args[0] ?? 2000);
const WARMUP = Math.min(200, RUNS);
const NOW = Math.floor(Date.now() / 1000);
const COLD_GOAL_US = 1000;
const CACHED_GOAL_US = 2;

interface Case {
  tokens: Uint8Array[];
  audience: string;
  root: string;
  message: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
}

/** A fresh authority → owner → app → node chain, as an admitted app's, plus a fresh raw signature. */
function makeCase(): Case {
  const [authority, owner, app, node] = [0, 1, 2, 3].map(() => signerFromKeyPair(KeyPair.generate()));
  const exp = NOW + 3600;
  const d0 = delegate(authority, {
    aud: owner.did,
    sub: authority.did,
    cmd: "/macula",
    pol: namespacePolicy("io.acme.plant3"),
    exp,
  });
  const d1 = delegate(owner, { aud: app.did, sub: authority.did, cmd: "/macula/pubsub", exp });
  const d2 = delegate(app, { aud: node.did, sub: authority.did, cmd: "/macula", exp });
  const raw = KeyPair.generate();
  const message = d1.bytes.subarray(67); // a signed payload of a real token's size
  return {
    tokens: [d0.bytes, d1.bytes, d2.bytes],
    audience: node.did,
    root: authority.did,
    message,
    signature: raw.sign(message),
    publicKey: raw.publicKey,
  };
}

const op = operationInvocation({ kind: "publish", name: "io.acme.plant3.temp", realm: "io.acme" });

function validateCold(c: Case): boolean {
  const links = c.tokens.map((bytes) => Delegation.decode(bytes));
  const chain = verifyChain(links, { audience: c.audience, roots: new Set([c.root]), now: NOW });
  return chain.covers(op.cmd, op.args);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const cases = Array.from({ length: WARMUP + RUNS }, makeCase);
const cold: number[] = [];
const baseline: number[] = [];
for (const [i, c] of cases.entries()) {
  const t0 = performance.now();
  const ok = verify(c.publicKey, c.message, c.signature);
  const t1 = performance.now();
  const covered = validateCold(c);
  const t2 = performance.now();
  if (!ok || !covered) throw new Error("bench case failed to validate");
  if (i >= WARMUP) {
    baseline.push((t1 - t0) * 1000);
    cold.push((t2 - t1) * 1000);
  }
}

// Cached: covers() on one verified chain, timed in batches (one call is below the timer's resolution).
const verified = verifyChain(cases[0].tokens.map((b) => Delegation.decode(b)), {
  audience: cases[0].audience,
  now: NOW,
});
const BATCH = 1000;
const cached: number[] = [];
for (let r = 0; r < 200 + RUNS / 10; r++) {
  const t0 = performance.now();
  for (let k = 0; k < BATCH; k++) {
    if (!verified.covers(op.cmd, op.args)) throw new Error("not covered");
  }
  if (r >= 200) cached.push(((performance.now() - t0) * 1000) / BATCH);
}

const verifyUs = median(baseline);
const coldUs = median(cold);
const cachedUs = median(cached);
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
console.log(`ed25519 verify, one signature (baseline): median ${verifyUs.toFixed(1)} µs over ${RUNS} runs`);
console.log(
  `3-link chain cold (decode 3 + verifyChain + covers): median ${coldUs.toFixed(1)} µs = ${
    (coldUs / verifyUs).toFixed(1)
  }× one verify; goal ≤ ${COLD_GOAL_US} µs — ${verdict(coldUs <= COLD_GOAL_US)}`,
);
console.log(
  `cached per-operation check (covers on a verified 3-link chain): median ${cachedUs.toFixed(2)} µs = ${
    (cachedUs / verifyUs).toFixed(3)
  }× one verify; goal ≤ ${CACHED_GOAL_US} µs — ${verdict(cachedUs <= CACHED_GOAL_US)}`,
);
console.log(
  `BENCH_JSON ${
    JSON.stringify({
      runs: RUNS,
      verifyUs,
      coldChainUs: coldUs,
      cachedCoversUs: cachedUs,
      coldRatio: coldUs / verifyUs,
    })
  }`,
);
