/**
 * A closed realm through the real CLI, in child processes on loopback: an
 * authority's data dir issues the chains (`macula namespace delegate`,
 * `macula ucan issue --proof`), three nodes run `macula start
 * --realm-policy closed --realm-authority io.acme=<authority>`; A and B hold
 * chains for io.acme.plant3, C holds none.
 *
 * - A → B publish is delivered (`macula pub|sub --as-node`);
 * - C's publish is refused by A and B, C's call by B (a typed error), each
 *   refusal counted in their /metrics;
 * - an app process (a node from mod.ts with the same options) admits an app
 *   declaring only `subscribe`: its handle's publish is refused at its own
 *   node (OperationRefusedError), a raw node publish by the receivers;
 * - `macula ucan revoke` of A's chain, handed to C, makes B refuse A: the
 *   time it takes is printed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type CliProcess, type NodeProcess, runCli, scratchDir, spawnCli, startNode, waitFor } from "../helpers/cli.ts";
import { parseChain } from "../../src/ucan/mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const REALM = "io.acme";

/** The value of metric `name` with exactly `labels` in `node`'s /metrics (0 when absent). */
async function metric(node: NodeProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.healthPort}/metrics`)).text();
  const key = labels === "" ? `${name} ` : `${name}{${labels}} `;
  const line = text.split("\n").find((l) => l.startsWith(key));
  return line ? Number(line.split(" ").pop()) : 0;
}

const refusedPublish = (n: NodeProcess) => metric(n, "macula_auth_refused_total", `kind="publish",realm="${REALM}"`);
const refusedCall = (n: NodeProcess) => metric(n, "macula_auth_refused_total", `kind="call",realm="${REALM}"`);

async function cliOk(args: string[]): Promise<string> {
  const r = await runCli(args);
  assertEquals(r.code, 0, `macula ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** `macula sub PATTERN --as-node` on `node`, waiting until it is subscribed. */
async function subscriber(node: NodeProcess): Promise<CliProcess> {
  const sub = spawnCli([
    "sub",
    "io.acme.plant3.>",
    "--realm",
    REALM,
    "--as-node",
    "--health-port",
    String(node.healthPort),
  ]);
  await waitFor(
    () => sub.err.some((l) => l.includes("subscribed to")),
    15_000,
    "the subscriber",
    () => sub.err.join("\n"),
  );
  return sub;
}

const messages = (sub: CliProcess) =>
  sub.out.map((l) => JSON.parse(l) as { payload: { n: string }; publisher: string });

Deno.test({
  name: "closed realm through the CLI: capabilities decide publish and call across processes; an app is refused at " +
    "its node and at the receivers; a revocation spreads",
  ...opts,
  async fn() {
    const started = Date.now();
    const dir = await scratchDir();
    const d = (name: string) => `${dir.path}/${name}`;
    const nodes: NodeProcess[] = [];
    const subs: CliProcess[] = [];
    let appProcess: Deno.ChildProcess | undefined;
    let reading: Promise<void> | undefined;
    try {
      // Identities, then the chains, through the CLI.
      const [auth, owner, aDid, bDid, appDid] = await Promise.all(
        ["auth", "owner", "a", "b", "app"].map((n) => cliOk(["id", "--data-dir", d(n)])),
      );
      await Promise.all([
        // A: a pub/sub-only namespace delegation straight from the authority.
        cliOk([
          "namespace",
          "delegate",
          "io.acme.plant3",
          "--to",
          aDid,
          "--cmd",
          "/macula/pubsub",
          "--exp",
          "1h",
          "--data-dir",
          d("auth"),
          "-o",
          `${d("a")}/ucan/plant3.ucan`,
        ]),
        // The namespace owner, who delegates further.
        cliOk([
          "namespace",
          "delegate",
          "io.acme.plant3",
          "--to",
          owner,
          "--exp",
          "1h",
          "--data-dir",
          d("auth"),
          "-o",
          `${d("owner")}/plant3.ucan`,
        ]),
      ]);
      await Promise.all([
        // B: everything under io.acme.plant3, issued by the owner with its chain as proof.
        cliOk([
          "ucan",
          "issue",
          "--aud",
          bDid,
          "--cmd",
          "/macula",
          "--pol",
          '[["like", ".name", "io.acme.plant3.*"]]',
          "--proof",
          `${d("owner")}/plant3.ucan`,
          "--data-dir",
          d("owner"),
          "-o",
          `${d("b")}/ucan/plant3.ucan`,
        ]),
        // The app: subscribe only, in its own namespace.
        cliOk([
          "namespace",
          "delegate",
          "io.acme.plant3.monitor",
          "--to",
          appDid,
          "--cmd",
          "/macula/pubsub/subscribe",
          "--proof",
          `${d("owner")}/plant3.ucan`,
          "--data-dir",
          d("owner"),
          "-o",
          `${d("app")}/proof.ucan`,
        ]),
      ]);
      const closed = ["--realm", REALM, "--realm-policy", "closed", "--realm-authority", `${REALM}=${auth}`];
      const a = await startNode(["--data-dir", d("a"), ...closed]);
      nodes.push(a);
      assert(
        a.lines.some((l) => l.includes("closed realm") && l.includes("authorities=1") && l.includes("chains=1")),
        a.lines.join("\n"),
      );
      const seed = ((await a.get("/status")) as { addrs: string[] }).addrs[0];
      const [b, c] = await Promise.all([
        startNode(["--data-dir", d("b"), "--seed", seed, "--echo", "io.acme.plant3.echo", ...closed]),
        startNode(["--data-dir", d("c"), "--seed", seed, ...closed]),
      ]);
      nodes.push(b, c);
      assert(c.lines.some((l) => l.includes("closed realm") && l.includes("chains=0")), c.lines.join("\n"));
      const port = (n: NodeProcess) => ["--as-node", "--realm", REALM, "--health-port", String(n.healthPort)];
      const [subA, subB] = await Promise.all([subscriber(a), subscriber(b)]);
      subs.push(subA, subB);

      // A → B: delivered (retried until A knows B's subscription).
      await waitFor(
        async () => {
          const out = JSON.parse(await cliOk(["pub", "io.acme.plant3.temp", '{"n":"a"}', ...port(a)]));
          return out.subscribers >= 1 && messages(subB).some((m) => m.payload.n === "a");
        },
        20_000,
        "A's message at B",
        () => subB.err.join("\n"),
      );
      assertEquals(messages(subB).find((m) => m.payload.n === "a")!.publisher, aDid);

      // C publishes: both A and B refuse it (counted), neither subscriber sees it.
      const [ra0, rb0] = [await refusedPublish(a), await refusedPublish(b)];
      await waitFor(
        async () => {
          await cliOk(["pub", "io.acme.plant3.temp", '{"n":"c"}', ...port(c)]);
          return (await refusedPublish(a)) > ra0 && (await refusedPublish(b)) > rb0;
        },
        20_000,
        "A and B to refuse C's message",
      );
      // C calls B's procedure: a typed error to the caller, counted at B.
      const rc0 = await refusedCall(b);
      const call = await runCli(["call", "io.acme.plant3.echo", '{"q":1}', ...port(c)]);
      assertEquals(call.code, 1, call.stdout);
      assert(call.stderr.includes("not authorized to call io.acme.plant3.echo"), call.stderr);
      assert((await refusedCall(b)) > rc0);

      // The app process: refused at its own node through its handle, at the receivers through the raw node API.
      const [ra1, rb1] = [await refusedPublish(a), await refusedPublish(b)];
      appProcess = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-net",
          "tests/cli/helpers/closed_realm_app.ts",
          seed,
          auth,
          d("app"),
          `${d("app")}/proof.ucan`,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const appLines: Array<Record<string, unknown>> = [];
      reading = (async () => {
        let buffer = "";
        for await (const text of appProcess!.stdout.pipeThrough(new TextDecoderStream())) {
          buffer += text;
          const parts = buffer.split("\n");
          buffer = parts.pop()!;
          appLines.push(...parts.map((l) => JSON.parse(l)));
        }
      })();
      await waitFor(
        () => appLines.some((l) => l.step === "raw-publish" || l.step === "error"),
        40_000,
        "the app process",
        () => JSON.stringify(appLines),
      );
      const step = (s: string) => appLines.find((l) => l.step === s)!;
      assertEquals(step("admitted").app, appDid, JSON.stringify(appLines));
      assertEquals(step("admitted").capabilities, ["subscribe"]);
      assertEquals(step("handle-publish").refused, true);
      assertEquals(step("handle-publish").code, "E_NOT_AUTHORIZED");
      assertEquals(step("handle-publish").reason, "capability_not_declared");
      assertEquals(step("raw-publish").subscribers, 2, "A and B are subscribers the app's node accepted");
      await waitFor(
        async () => (await refusedPublish(a)) > ra1 && (await refusedPublish(b)) > rb1,
        15_000,
        "A and B to refuse the app node's message",
      );
      for (const sub of [subA, subB]) {
        assert(!messages(sub).some((m) => m.payload.n === "c" || (m.payload as unknown as { from?: string }).from));
      }

      // Revoke A's chain at C (the authority signs); B stops accepting A once the revocation reached it.
      const cid = parseChain(await Deno.readTextFile(`${d("a")}/ucan/plant3.ucan`))[0].id;
      const commandAt = performance.now();
      const revoked = await runCli([
        "ucan",
        "revoke",
        cid,
        "--data-dir",
        d("auth"),
        "--health-port",
        String(c.healthPort),
      ]);
      assertEquals(revoked.code, 0, revoked.stderr);
      const handedAt = performance.now();
      const revocationsAt = (n: NodeProcess) => metric(n, "macula_auth_revocations", "");
      while ((await revocationsAt(b)) < 1) {
        if (performance.now() - handedAt > 10_000) {
          const r = await Promise.all([a, b, c].map(revocationsAt));
          throw new Error(`the revocation did not reach B in 10 s: revocations at A, B, C ${r}; ${revoked.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      const propagationMs = performance.now() - handedAt;
      const rb2 = await refusedPublish(b);
      const seenAtB = messages(subB).length;
      await waitFor(
        async () => {
          await cliOk(["pub", "io.acme.plant3.temp", '{"n":"a-after"}', ...port(a)]);
          return (await refusedPublish(b)) > rb2;
        },
        15_000,
        "B to refuse A after the revocation",
      );
      assertEquals(messages(subB).slice(seenAtB).filter((m) => m.payload.n === "a-after"), []);
      console.log(
        `revocation: \`macula ucan revoke\` handing it to C took ${(handedAt - commandAt).toFixed(0)} ms (CLI start ` +
          `included); then at B after ${propagationMs.toFixed(0)} ms (/metrics polled every 5 ms); ` +
          `whole test ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      if (appProcess) {
        await appProcess.stdin.close().catch(() => {});
        const timer = setTimeout(() => appProcess!.kill("SIGKILL"), 5_000);
        await appProcess.status;
        clearTimeout(timer);
        await reading?.catch(() => {});
      }
      for (const sub of subs) {
        try {
          sub.child.kill("SIGTERM");
        } catch { /* gone */ }
        await sub.done;
      }
      await Promise.all(nodes.map((n) => n.stop("SIGTERM").catch(() => n.stop("SIGKILL"))));
      await dir.cleanup();
    }
  },
});
