/**
 * The gateway in real `macula start` processes: G serves the WebSocket link
 * on its status port (on by default) and announces it; H (TCP only to G)
 * provides an RPC procedure. A node with ONLY the ws link, in this process,
 * calls H's procedure through G (a gateway circuit to a CLI node), and G's
 * procedure over ws directly. `--no-ws` turns the route off.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, startNode, waitFor } from "../helpers/cli.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";
import { WebSocketTransport } from "../../src/transport/websocket.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

type Status = { id: string; addrs: string[] };

/** A free loopback port (the status port must be known before the node starts for ws to be announced at once). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "gateway CLI: a ws-only node calls procedures on the gateway and, through it, on a TCP-only CLI node",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const g = await startNode([
        "--data-dir",
        `${dir.path}/g`,
        "--health-port",
        String(freePort()),
        "--echo",
        "g.echo",
      ]);
      nodes.push(g);
      const gStatus = (await g.get("/status")) as Status;
      const gWs = gStatus.addrs.find((a) => a.startsWith("ws://"));
      assert(gWs, `G announces its ws address: ${gStatus.addrs.join(" ")}`);
      const gTcp = gStatus.addrs.find((a) => a.startsWith("tcp://"))!;
      const h = await startNode(["--data-dir", `${dir.path}/h`, "--seed", gTcp, "--echo", "h.echo", "--no-ws"]);
      nodes.push(h);
      const hStatus = (await h.get("/status")) as Status;
      assert(!hStatus.addrs.some((a) => a.startsWith("ws://")), "--no-ws: no ws address");
      const hWs = await fetch(`http://127.0.0.1:${h.healthPort}/macula/ws`);
      assertEquals(hWs.status, 404, "--no-ws: no route");
      await hWs.body?.cancel();

      await using b = await Node.start({
        keyPair: KeyPair.generate(),
        logger: Logger.silent(),
        transports: [new WebSocketTransport()],
        seeds: [gWs],
        relay: { gateway: gWs },
        nat: false,
        punch: false,
      });
      const call = async (name: string) => {
        let result: unknown;
        await waitFor(
          async () => {
            try {
              result = await b.call(name, { hi: name }, { timeout: 3_000 });
              return true;
            } catch {
              return false;
            }
          },
          20_000,
          `B calls ${name}`,
        );
        return result as { node: string; from: string; args: unknown };
      };
      const fromG = await call("g.echo");
      assertEquals(fromG, { node: gStatus.id, from: b.did, args: { hi: "g.echo" } });
      assertEquals(b.connection(NodeId.fromDid(gStatus.id))?.transport, "ws");
      const fromH = await call("h.echo");
      assertEquals(fromH, { node: hStatus.id, from: b.did, args: { hi: "h.echo" } });
      assert(b.connection(NodeId.fromDid(hStatus.id))?.relayed, "B reaches H through G");
    } finally {
      for (const n of nodes) await n.stop();
      await dir.cleanup();
    }
  },
});
