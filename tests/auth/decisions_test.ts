/**
 * Decisions of the auth service on real nodes: cached decisions are
 * synchronous; pulls are single-flight and repeated only after the refusal
 * window; a forwarded pub/sub message is decided on its origin; requests
 * without a realm; the node's own chains (`holds`); the proofs a node
 * serves for others; no-clock mode.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import { NotAuthorizedError, type Operation } from "../../src/node/authorize.ts";
import { AuthClient } from "../../src/auth/exchange.ts";
import { NO_CLOCK_WARNING } from "../../src/auth/clock.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import { Logger } from "../../src/log/logger.ts";
import { ProtocolRefusedError } from "../../src/transport/errors.ts";
import { Delegation, ExpiredError, NoClockError } from "../../src/ucan/mod.ts";
import { closedAuth, closedMesh, grant, newSigner, REALM, sleep, stopAll } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const op = (kind: Operation["kind"], name: string): Operation => ({ kind, name, realm: REALM });

Deno.test({
  name:
    "auth decisions: cached decisions are synchronous; pulls are single-flight; a refusal is revisited after the window",
  ...opts,
  async fn() {
    const authority = newSigner();
    const nodes = await closedMesh(new MemoryNetwork(), authority, 2, () => ({ auth: { repullAfter: 300 } }));
    const [a, b] = nodes;
    try {
      const pub = op("publish", "io.acme.plant3.temp");
      const first = a.auth.check(b.id, pub);
      assert(first instanceof Promise, "the first decision pulls b's chains");
      const all = await Promise.all([first, ...Array.from({ length: 50 }, () => a.auth.check(b.id, pub))]);
      assert(all.every((v) => v === false));
      const pulls = () =>
        a.metrics.registry.render().match(/macula_auth_proof_pulls_total\{outcome="none"\} (\d+)/)?.[1];
      assertEquals(pulls(), "1", "one pull for 51 concurrent decisions");
      assertEquals(a.auth.check(b.id, pub), false, "refused synchronously within the window");
      assertEquals(a.auth.check(b.id, op("publish", "io.acme.plant3.other")), false, "other names too: no new pull");
      assertEquals(pulls(), "1");
      // b gets a token; after the window a's next decision pulls again and admits it.
      b.auth.addChain(grant(authority, b, "/macula/pubsub"));
      await sleep(320);
      const again = a.auth.check(b.id, pub);
      assert(again instanceof Promise);
      assertEquals(await again, true);
      assertEquals(a.auth.check(b.id, pub), true, "cached: synchronous");
      assertEquals(a.auth.check(b.id, op("subscribe", "io.acme.x.y")), true, "same chains: no pull");
      assertEquals(a.auth.check(b.id, op("call", "io.acme.x.y")), false, "publish and subscribe only");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "auth decisions: a forwarded message is decided on its origin, not on the forwarder",
  ...opts,
  async fn() {
    const authority = newSigner();
    const network = new MemoryNetwork();
    // Node 0 publishes with a fan-out of 1: one subscriber gets it directly and forwards to the others.
    const nodes = await closedMesh(network, authority, 5, (i) => (i <= 1 ? { pubsub: { maxFanout: 1 } } : {}), "star");
    const [good, bad, ...subs] = nodes;
    try {
      good.auth.addChain(grant(authority, good, "/macula/pubsub/publish", namespacePolicy("io.acme.plant3")));
      const vias: string[] = [];
      const got = subs.map((s) => {
        s.auth.addChain(grant(authority, s, "/macula")); // forwarders may do anything themselves
        const seen: unknown[] = [];
        s.subscribe("io.acme.plant3.>", (m) => seen.push(m.payload), {
          authorize: (_from, o) => {
            if (o.via) vias.push(o.via.did);
            return true;
          },
        });
        return seen;
      });
      await Promise.all(subs.map((s) => s.pubsub.whenAnnounced()));
      await Promise.all([good, bad].map((n) => n.pubsub.ready("io.acme.plant3.temp", { min: 3 })));
      await good.publish("io.acme.plant3.temp", "good");
      await bad.publish("io.acme.plant3.temp", "bad");
      await until(() => got.every((g) => g.includes("good")), 3000, "the authorized origin reaches all");
      assert(vias.length >= 2, `some copies were forwarded (${vias.length})`);
      await sleep(150);
      assert(got.every((g) => !g.includes("bad")), "the unauthorized origin reaches none, forwarded or not");
      // A node answers for the subjects it verified: the forwarder serves good's chain to whoever asks.
      const forwarder = subs.find((s) => vias.includes(s.did))!;
      const { chains } = await new AuthClient(subs.find((s) => s !== forwarder)!).proofs(forwarder.id, {
        subject: good.id,
      });
      assertEquals(chains.length, 1);
      assertEquals(Delegation.decode(chains[0][0]).aud, good.did);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name:
    "auth decisions: exposed requests (no realm) need /macula/request in a closed realm; holds() decides own operations",
  ...opts,
  async fn() {
    const authority = newSigner();
    const nodes = await closedMesh(new MemoryNetwork(), authority, 3);
    const [a, b, c] = nodes;
    try {
      a.expose("greet", (_from, name) => `hello ${name}`);
      b.auth.addChain(grant(authority, b, "/macula/request", [["==", ".name", "greet"]]));
      assertEquals(await b.request(a.id, "greet", "b"), "hello b");
      let refused: unknown;
      await c.request(a.id, "greet", "c").catch((e) => refused = e);
      assert(refused instanceof NotAuthorizedError, String(refused));
      // holds(): this node's own chains.
      assertEquals(b.auth.holds({ kind: "request", name: "greet" }), true);
      assertEquals(b.auth.holds({ kind: "request", name: "other" }), false);
      assertEquals(b.auth.holds(op("publish", "io.acme.x.y")), false);
      const [chain] = b.auth.chains();
      b.auth.removeChain(chain.links[0].id);
      assertEquals(b.auth.holds({ kind: "request", name: "greet" }), false, "removed");
      assertEquals(a.auth.check(a.id, op("publish", "io.acme.x.y")), false, "the node itself is decided by holds()");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "auth decisions: without a trustworthy clock only tokens without nbf/exp pass, and one warning is logged",
  ...opts,
  async fn() {
    const authority = newSigner();
    const warnings: string[] = [];
    const logger = new Logger({ level: "warn", sink: (line) => warnings.push(line) });
    const network = new MemoryNetwork();
    const board = await memoryNode(network, {
      realms: [REALM],
      logger,
      auth: closedAuth(authority, { clock: () => 0 }),
    });
    const peer = await memoryNode(network, { realms: [REALM], auth: closedAuth(authority) });
    try {
      assertThrows(() => board.auth.addChain(grant(authority, board, "/macula")), NoClockError);
      board.auth.addChain(grant(authority, board, "/macula", [], null));
      assertEquals(board.auth.holds(op("publish", "io.acme.x.y")), true);
      await peer.connect(board.addrs[0]);
      peer.auth.addChain(grant(authority, peer, "/macula/pubsub")); // expires: useless to the board
      assertEquals(await board.auth.check(peer.id, op("publish", "io.acme.x.y")), false);
      peer.auth.removeChain(peer.auth.chains()[0].links[0].id);
      assertEquals(warnings.filter((w) => w.includes(NO_CLOCK_WARNING)).length, 1, warnings.join("\n"));
      assertEquals((board.status().auth as { clock: string }).clock.startsWith("untrusted"), true);
      // An expired chain is refused by a node with a clock, with the UCAN error.
      assertThrows(
        () => peer.auth.verify(grant(authority, peer, "/macula", [], Math.floor(Date.now() / 1000) - 3600), peer.did),
        ExpiredError,
      );
    } finally {
      await board.stop();
      await peer.stop();
    }
  },
});

Deno.test({
  name: "auth decisions: a stream of a protocol outside /macula/ needs /macula/stream in a closed realm",
  ...opts,
  async fn() {
    const authority = newSigner();
    const nodes = await closedMesh(new MemoryNetwork(), authority, 3);
    const [a, b, c] = nodes;
    try {
      a.handle("/acme/raw/1", async (stream) => {
        await stream.writeMessage("hi");
        await stream.closeWrite();
      });
      b.auth.addChain(grant(authority, b, "/macula/stream", [["==", ".name", "/acme/raw/1"]]));
      const open = async (from: typeof b) => {
        const conn = await from.connect(a.id);
        const stream = await conn.openStream("/acme/raw/1");
        await stream.closeWrite();
        return await stream.readValue();
      };
      assertEquals(await open(b), "hi");
      let refused: unknown;
      await open(c).catch((e) => refused = e);
      assert(refused instanceof ProtocolRefusedError, String(refused));
    } finally {
      await stopAll(nodes);
    }
  },
});
