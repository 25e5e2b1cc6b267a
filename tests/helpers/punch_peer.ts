/**
 * A process of the hole-punch lab test (`tests/netns/punch_netns_test.ts`),
 * run inside a namespace with `deno run --allow-all --unstable-net
 * punch_peer.ts <role> …`. Prints JSON lines on stdout; logs go to stderr.
 *
 * - `splicer <host> <port>`: the relay stand-in (`splice.ts`); prints
 *   `{"ready":true}`, then runs until killed.
 * Nodes here are `NodeCore`s with only the punch service (no DHT or
 * pub/sub dialing peers on their own), so every connection is the test's.
 *
 * - `observer <host> <port>`: a plain node listening on QUIC (peers learn
 *   their public address and NAT mapping from it); prints `{"ready":true,"did"}`.
 * - `responder <splicer host:port> <observer addr>…`: a node that waits at
 *   the splicer for dialers; prints `{"ready":true,"did"}`.
 * - `initiator <splicer host:port> <peer did> <peer public IP> <rounds> <observer addr>… [--mapping unknown]`:
 *   a node that, `rounds` times, connects to the peer through the splicer,
 *   waits up to 10 s for the hole punch to give a direct connection, prints
 *   `{"round","direct","remote","relayedRemote","ms","timeToDirect","state","reason"}`
 *   (`ms`: from the `connect` call, relayed handshake included; `timeToDirect`:
 *   the service's own figure, from the relayed connection's adoption)
 *   and then closes every connection to the peer (both sides start the next
 *   round from scratch). `direct` is judged from the connection: not relayed
 *   and its remote address is the peer's public IP. `--mapping unknown`
 *   hides what the node knows of its mapping (so symmetric NATs still try).
 *   Ends with `{"done":true}`.
 *
 * @module
 */
import { NodeCore } from "../../src/node/node.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { Logger } from "../../src/log/logger.ts";
import { PUNCH, PunchService } from "../../src/nat/punch.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { SpliceTransport, startSplicer } from "./splice.ts";

const out = (value: unknown) => console.log(JSON.stringify(value));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const [role, ...rest] = Deno.args;
const platform = currentPlatform();

function split(text: string): { hostname: string; port: number } {
  const at = text.lastIndexOf(":");
  return { hostname: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

async function node(seeds: string[], listenAt?: { hostname: string; port: number }, hideMapping = false) {
  const quic = new QuicTransport(platform.quic!, { host: "0.0.0.0", port: 9443, udp: platform.udp });
  const logger = new Logger({ format: "json", level: "debug", sink: (line) => console.error(line) });
  const punch = new PunchService({
    quic,
    retryDelays: [],
    // The rounds come faster than any real peer's would (the default answers 10 attempts per peer per minute).
    maxAnswersPerMinute: 1_000,
    selfView: hideMapping ? (observed) => ({ ...observed, mapping: "unknown" }) : undefined,
  });
  return await NodeCore.start({
    keyPair: KeyPair.generate(),
    host: "0.0.0.0",
    port: 9443,
    transports: [quic, new SpliceTransport(listenAt)],
    services: [punch],
    seeds,
    logger,
    limits: { duplicateGrace: 500 },
  });
}

async function waitMapping(n: NodeCore, ms: number): Promise<string> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const view = n.service(PUNCH)!.selfView();
    if (view.mapping !== "unknown" && view.publicHosts.length) return view.mapping;
    await sleep(50);
  }
  return n.service(PUNCH)!.selfView().mapping;
}

if (role === "splicer") {
  startSplicer(rest[0], Number(rest[1]));
  out({ ready: true });
} else if (role === "observer") {
  const quic = new QuicTransport(platform.quic!, { host: rest[0], port: Number(rest[1]), udp: platform.udp });
  const n = await NodeCore.start({ keyPair: KeyPair.generate(), transports: [quic], logger: Logger.silent() });
  out({ ready: true, did: n.did, addr: n.addrs[0] });
} else if (role === "responder") {
  const [splicer, ...seeds] = rest;
  const n = await node(seeds, split(splicer));
  out({ ready: true, did: n.did, mapping: await waitMapping(n, 5_000), view: n.service(PUNCH)!.selfView() });
} else if (role === "initiator") {
  const hide = rest.includes("--mapping");
  const args = rest.filter((a, i) => a !== "--mapping" && rest[i - 1] !== "--mapping");
  const [splicer, peerDid, peerIp, rounds, ...seeds] = args;
  const n = await node(seeds, undefined, hide);
  const mapping = await waitMapping(n, 5_000);
  out({ ready: true, did: n.did, mapping, view: n.service(PUNCH)!.selfView() });
  const peer = NodeId.fromDid(peerDid);
  for (let round = 1; round <= Number(rounds); round++) {
    const started = performance.now();
    let relayedRemote = "";
    try {
      const conn = await n.connect(`splice://${splicer}/${peerDid}`);
      relayedRemote = `${conn.relayed ? "relayed" : "direct"} ${conn.remoteAddress}`;
    } catch (error) {
      out({ round, direct: false, error: (error as Error).message });
      continue;
    }
    let direct = false;
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const c = n.connection(peer);
      const st = n.service(PUNCH)!.peerStates().find((p) => p.peer === peerDid);
      if (c && !c.relayed) {
        direct = true;
        break;
      }
      if (st?.state === "stays-relayed") break;
      await sleep(20);
    }
    const ms = Math.round(performance.now() - started);
    // The service notes the upgrade (and its time from relayed contact) a poll after the node has it.
    for (let i = 0; direct && i < 40; i++) {
      if (n.service(PUNCH)!.peerStates().find((p) => p.peer === peerDid)?.state === "direct") break;
      await sleep(25);
    }
    const c = n.connection(peer);
    const st = n.service(PUNCH)!.peerStates().find((p) => p.peer === peerDid);
    const remote = c?.remoteAddress ?? "";
    out({
      round,
      direct: direct && !!c && !c.relayed && remote.startsWith(`${peerIp}:`),
      connected: !!c,
      route: c?.route,
      transport: c?.transport,
      remote,
      relayedRemote,
      ms,
      timeToDirect: st?.timeToDirect,
      state: st?.state,
      reason: st?.reason ?? st?.last?.reason,
      attempts: st?.attempts,
    });
    // Let the service finish its round, then start the next one from scratch: no connection on either side.
    for (let i = 0; i < 100; i++) {
      const s = n.service(PUNCH)!.peerStates().find((p) => p.peer === peerDid);
      if (s?.state !== "punching") break;
      await sleep(50);
    }
    for (let i = 0; i < 10; i++) {
      const open = n.connection(peer);
      if (!open) break;
      open.close("next round");
      await open.closed;
    }
    await sleep(300);
  }
  out({ done: true });
}
