/**
 * Test helper process for the closed-realm CLI test: a node started from
 * mod.ts with the closed-realm options `macula start` would use, seeded
 * from a CLI node, that admits an app declaring only `subscribe` and then
 * tries to publish twice — through the app's handle (refused at this node)
 * and through the raw node API (sent; the receivers refuse it).
 *
 * Run: deno run -A --unstable-net tests/cli/helpers/closed_realm_app.ts SEED AUTHORITY_DID APP_KEY_DIR PROOF_FILE
 *
 * Prints one JSON line per step on stdout and stays up (receivers pull its
 * chains from it) until stdin closes.
 */
import { type MeshApp, Node, OperationRefusedError } from "../../../mod.ts";
import { KeyPair } from "../../../src/identity/ed25519.ts";
import { loadOrCreateIdentity } from "../../../src/identity/key-store.ts";
import { Logger } from "../../../src/log/logger.ts";
import { currentPlatform } from "../../../src/platform/current.ts";
import type { MaculaError } from "../../../src/util/errors.ts";

const [seed, authority, appKeyDir, proofFile] = Deno.args;
const say = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

const app: MeshApp = {
  meshIdentity: () => "io.acme.plant3.monitor",
  meshCapabilities: () => ["subscribe"],
  meshApi: () => ({ topics: ["io.acme.plant3.monitor.events"], procedures: [], contentTypes: [] }),
  handleMeshEvent: () => {},
  handleRpcCall: () => null,
  provideContent: () => undefined,
  contentReceived: () => {},
  meshHealth: () => true,
};

const node = await Node.start({
  keyPair: KeyPair.generate(),
  host: "127.0.0.1",
  port: 0,
  realms: ["io.acme"],
  seeds: [seed],
  logger: Logger.silent(),
  auth: { realms: { "io.acme": { policy: "closed", authorities: [authority] } } },
  relay: false,
  punch: false,
  nat: false,
});
try {
  const { keyPair: appKey } = await loadOrCreateIdentity(currentPlatform().fs, appKeyDir);
  const handle = await node.apps.admit(app, {
    proof: await Deno.readTextFile(proofFile),
    key: appKey,
    realm: "io.acme",
  });
  say({ step: "admitted", node: node.did, app: handle.manifest.did, capabilities: handle.manifest.capabilities });
  try {
    await handle.publish("io.acme.plant3.monitor.events", { from: "handle" });
    say({ step: "handle-publish", refused: false });
  } catch (error) {
    say({
      step: "handle-publish",
      refused: error instanceof OperationRefusedError,
      code: (error as MaculaError).code,
      reason: (error as OperationRefusedError).reason,
      message: (error as Error).message,
    });
  }
  // The raw node API: no gatekeeper at this node; the receivers decide. Wait until the subscribers are known.
  const deadline = Date.now() + 20_000;
  let remote = 0;
  while (remote < 2 && Date.now() < deadline) {
    remote =
      (await node.publish("io.acme.plant3.monitor.events", { from: "raw", at: Date.now() }, { realm: "io.acme" }))
        .remote;
    if (remote < 2) await new Promise((r) => setTimeout(r, 100));
  }
  await node.pubsub.flush();
  say({ step: "raw-publish", subscribers: remote });
  // Stay up for the receivers' proof pulls until the test closes stdin.
  for await (const _ of Deno.stdin.readable) { /* wait */ }
} catch (error) {
  say({ step: "error", message: (error as Error).message });
} finally {
  await node.stop();
}
