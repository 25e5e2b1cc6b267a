/**
 * `PunchService` end to end on loopback, between two real nodes whose
 * first connection runs through a TCP splicer (a relay stand-in:
 * `route: "relayed"`): the dialer of the relayed connection punches, both
 * nodes end up on a direct QUIC connection from punch endpoints (the
 * relayed one is retired), and the metrics and status say so. Then the
 * cases that stay relayed: both sides endpoint-dependent (skipped, with the
 * reason in status) and no reachable candidate (3 failed attempts, a retry
 * scheduled).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { SpliceTransport, startSplicer } from "../helpers/splice.ts";
import { loopbackNode, until } from "../helpers/nodes.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { PUNCH, type PunchOptions } from "../../src/nat/punch.ts";
import type { Node } from "../../src/api/node.ts";

const platform = currentPlatform();

async function pair(punch: (side: "a" | "b") => Omit<PunchOptions, "quic">) {
  const splicer = startSplicer("127.0.0.1");
  const mk = (side: "a" | "b") =>
    loopbackNode({
      transports: [
        new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0, udp: platform.udp }),
        new SpliceTransport(side === "b" ? splicer.addr : undefined),
      ],
      punch: punch(side),
      limits: { duplicateGrace: 500 },
    });
  const a = await mk("a");
  const b = await mk("b");
  const spliceAddr = `splice://127.0.0.1:${splicer.addr.port}/${b.did}`;
  return {
    a,
    b,
    splicer,
    spliceAddr,
    async [Symbol.asyncDispose]() {
      await a.stop();
      await b.stop();
      splicer.close();
    },
  };
}

function punchState(node: Node, peer: Node) {
  return node.service(PUNCH)!.peerStates().find((p) => p.peer === peer.did);
}

Deno.test("a relayed connection becomes a direct QUIC connection by hole punching", async () => {
  await using t = await pair(() => ({ localAddresses: () => ["127.0.0.1"], retryDelays: [] }));
  const { a, b } = t;
  // The splicer is the relay stand-in: a and b are not directly connected before.
  await until(() => t.splicer.addr.port > 0);
  const relayed = await a.connect(t.spliceAddr);
  assert(relayed.relayed, "the first connection runs through the splicer");
  await until(() => a.connection(b.id)?.relayed === false, 10_000, "a direct connection on a");
  await until(() => b.connection(a.id)?.relayed === false, 10_000, "a direct connection on b");
  const direct = a.connection(b.id)!;
  assertEquals(direct.transport, "quic");
  assert(direct.remoteAddress.startsWith("127.0.0.1:"));
  await until(() => punchState(a, b)?.state === "direct", 5_000, "a's punch state");
  const st = punchState(a, b)!;
  assertEquals(st.last?.result, "direct");
  assertEquals(st.last?.role, "initiator");
  assert(st.timeToDirect! >= 0 && st.timeToDirect! < 5_000, `time to direct ${st.timeToDirect}`);
  // The relayed connection is retired once quiet, and requests use the direct one.
  await until(() => relayed.isClosed, 5_000, "the relayed connection to close");
  b.expose("echo", (_from, x) => x);
  assertEquals(await a.request(b.id, "echo", 42), 42);
  const metrics = a.metrics.registry.render();
  assert(metrics.includes('macula_punch_results_total{reason="ok",result="direct"} 1'), metrics);
  assert(metrics.includes('macula_punch_attempts_total{role="initiator"} 1'));
  assert(metrics.includes("macula_punch_time_to_direct_seconds_count 1"));
  const status = a.status() as unknown as { services?: Record<string, unknown> } & Record<string, unknown>;
  assert(JSON.stringify(status).includes('"punch"'), "status has a punch section");
  assertEquals(a.peers().find((p) => p.id === b.did)?.punch, "direct");
});

Deno.test("both sides endpoint-dependent: no attempt, the peer stays relayed and status says why", async () => {
  const selfView = () => ({ publicHosts: ["127.0.0.1"], listen: [], mapping: "endpoint-dependent" as const });
  await using t = await pair(() => ({ selfView, retryDelays: [] }));
  const { a, b } = t;
  await a.connect(t.spliceAddr);
  await until(() => punchState(a, b)?.state === "stays-relayed", 5_000, "stays-relayed");
  assertEquals(punchState(a, b)?.reason, "both-endpoint-dependent");
  assertEquals(punchState(a, b)?.last?.result, "skipped");
  assert(a.connection(b.id)?.relayed);
  assert(
    a.metrics.registry.render().includes(
      'macula_punch_results_total{reason="both-endpoint-dependent",result="skipped"} 1',
    ),
  );
});

Deno.test("no reachable candidate: three failed attempts, the peer stays relayed, a retry is scheduled", async () => {
  await using t = await pair(() => ({ localAddresses: () => [], timeout: 400, attemptGap: 10, retryDelays: [60_000] }));
  const { a, b } = t;
  await a.connect(t.spliceAddr);
  await until(() => punchState(a, b)?.state === "stays-relayed", 10_000, "stays-relayed");
  const st = punchState(a, b)!;
  assertEquals(st.attempts, 3);
  assert(st.reason?.startsWith("failed 3 attempts"), st.reason);
  assert(st.nextRetryAt! > Date.now() + 50_000);
  assert(a.connection(b.id)?.relayed);
});
