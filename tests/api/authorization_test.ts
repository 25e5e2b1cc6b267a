/**
 * The per-operation authorization hook across real nodes: RPC calls,
 * exposed requests, pub/sub messages (subject = origin, also when
 * forwarded), subscriptions, and the node-wide policy.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import type { NodeOptions } from "../../src/api/node.ts";
import type { Operation } from "../../src/node/authorize.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import type { NodeId } from "../../src/identity/node-id.ts";
import { ProtocolRefusedError } from "../../src/transport/errors.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const star = (network: MemoryNetwork, count: number, options?: (i: number) => Partial<NodeOptions>) =>
  joinedNodes(network, count, "star", options);

async function stopAll(nodes: Node[]) {
  await Promise.all(nodes.map((n) => n.stop()));
}

Deno.test({
  name: "rpc: advertise authorize decides each call with the envelope's auth; refusal is NotAuthorizedError at once",
  ...opts,
  async fn() {
    const nodes = await star(new MemoryNetwork(), 3);
    const [provider, friend, stranger] = nodes;
    try {
      const asked: Array<[string, Operation]> = [];
      provider.advertise("vault.open", () => "opened", {
        authorize: (subject: NodeId, op: Operation) => {
          asked.push([subject.did, op]);
          return subject.equals(friend.id) || op.auth === "let-me-in";
        },
      });
      await until(async () => (await friend.call("vault.open", null).catch(() => "")) === "opened", 3000, "provider");
      assertEquals(asked.at(-1)![0], friend.did);
      assertEquals(asked.at(-1)![1].kind, "call");
      assertEquals(asked.at(-1)![1].name, "vault.open");
      assertEquals(asked.at(-1)![1].realm, "default");
      const started = Date.now();
      await assertRejects(() => stranger.call("vault.open", null), NotAuthorizedError, "vault.open");
      assert(Date.now() - started < 1_000, `refused at once, not after a timeout (${Date.now() - started} ms)`);
      assertEquals(asked.at(-1)![0], stranger.did, "the subject is the proven caller");
      assertEquals(await stranger.call("vault.open", null, { auth: "let-me-in" }), "opened", "auth material arrives");
      assertEquals(asked.at(-1)![1].auth, "let-me-in");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "node-wide policy: asked for streams, exposed requests and calls; a refusal is a typed error",
  ...opts,
  async fn() {
    const asked: string[] = [];
    const network = new MemoryNetwork();
    let blocked: NodeId | undefined;
    const nodes = await star(network, 2, (i) =>
      i === 0
        ? {
          authorize: (subject: NodeId, op: Operation) => {
            asked.push(`${op.kind} ${op.name}`);
            return !(blocked && subject.equals(blocked) && op.kind !== "stream");
          },
        }
        : {});
    const [guarded, other] = nodes;
    try {
      guarded.expose("echo", (_from, x) => x);
      assertEquals(await other.request(guarded.id, "echo", 1), 1);
      assert(asked.includes("stream /macula/app/1/echo"), "the stream gate asks the policy");
      assert(asked.includes("request echo"), "so does each request");
      blocked = other.id;
      await assertRejects(() => other.request(guarded.id, "echo", 2), NotAuthorizedError);
      // A policy that refuses the stream itself answers with ProtocolRefusedError.
      const refuseStreams = await memoryNode(network, { authorize: (_s, op) => op.kind !== "stream" });
      try {
        refuseStreams.expose("echo", (_from, x) => x);
        await assertRejects(() => other.request(refuseStreams.addrs[0], "echo", 3), ProtocolRefusedError);
      } finally {
        await refuseStreams.stop();
      }
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: the subject of a forwarded message is its origin; per-subscription and node-wide hooks apply",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const subjects: Array<{ subject: string; via?: string; kind: string }> = [];
    // Node 0 publishes; 1-3 subscribe; fan-out 1 forces forwarding through a head.
    const nodes = await star(network, 4, (i) => ({
      pubsub: { maxFanout: 1 },
      authorize: i > 0
        ? (subject: NodeId, op: Operation) => {
          if (op.kind === "publish") subjects.push({ subject: subject.did, via: op.via?.did, kind: op.kind });
          return true;
        }
        : undefined,
    }));
    const [pub, s1, s2, s3] = nodes;
    try {
      const got = new Map<string, number[]>([[s1.did, []], [s2.did, []], [s3.did, []]]);
      /** What `who` received after the warm-up (payloads > 0). */
      const after = (who: Node) => got.get(who.did)!.filter((x) => x > 0);
      let allowed = true;
      s1.subscribe("plant.temp", (m) => got.get(s1.did)!.push(m.payload as number), {
        authorize: (subject, op) => {
          assertEquals(op.kind, "publish");
          assertEquals(op.name, "plant.temp");
          return subject.equals(pub.id) && allowed;
        },
      });
      s2.subscribe("plant.temp", (m) => got.get(s2.did)!.push(m.payload as number));
      s3.subscribe("plant.temp", (m) => got.get(s3.did)!.push(m.payload as number));
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await until(async () => (await pub.publish("plant.temp", 0)).remote === 3, 5000, "3 subscribers known");
      await until(() => [...got.values()].every((g) => g.includes(0)), 5000, "warm-up delivered");
      for (let i = 1; i <= 5; i++) await pub.publish("plant.temp", i);
      await until(() => [s1, s2, s3].every((n) => after(n).length === 5), 5000, "all delivered");
      // Fan-out 1 to 3 subscribers: two of them got each message through a forwarder, and
      // their policy was asked about the origin publisher, with the forwarder as `via`.
      assert(subjects.every((s) => s.subject === pub.did), "subject = origin publisher");
      const forwarded = subjects.filter((s) => s.via !== undefined);
      assert(forwarded.length >= 10, `forwarded copies were decided (${forwarded.length})`);
      assert(forwarded.every((s) => s.via !== pub.did && [s1.did, s2.did, s3.did].includes(s.via!)));
      allowed = false;
      const dropped = () =>
        s1.metrics.registry.render().match(/macula_pubsub_dropped_total\{reason="unauthorized"\} (\d+)/);
      for (let i = 6; i <= 8; i++) await pub.publish("plant.temp", i);
      await until(() => after(s2).length === 8 && after(s3).length === 8, 5000, "others still get them");
      await until(() => Number(dropped()?.[1] ?? 0) === 3, 2000, "refused messages counted");
      assertEquals(after(s1), [1, 2, 3, 4, 5], "the refusing subscription got nothing more");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: a publisher's policy refusing a subscriber node for a topic sends it nothing",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const banned: { id?: NodeId } = {};
    const nodes = await star(
      network,
      3,
      (i) =>
        i === 0
          ? { authorize: (subject: NodeId, op: Operation) => !(op.kind === "subscribe" && banned.id?.equals(subject)) }
          : {},
    );
    const [pub, ok, ban] = nodes;
    banned.id = ban.id;
    try {
      const okGot: unknown[] = [];
      const banGot: unknown[] = [];
      ok.subscribe("news.*", (m) => okGot.push(m.payload));
      ban.subscribe("news.*", (m) => banGot.push(m.payload));
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await until(async () => (await pub.publish("news.warmup", 0)).remote === 1, 5000, "one admitted subscriber");
      await pub.publish("news.today", "hello");
      await until(() => okGot.includes("hello"), 3000, "admitted subscriber got it");
      await new Promise((r) => setTimeout(r, 100));
      assertEquals(banGot, [], "refused subscriber got nothing");
    } finally {
      await stopAll(nodes);
    }
  },
});
