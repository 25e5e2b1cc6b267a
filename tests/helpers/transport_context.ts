/** Test helper: a TransportContext with a handler table and an inbound queue. */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import type { Connection, StreamHandler } from "../../src/transport/connection.ts";
import type { TransportContext } from "../../src/transport/transport.ts";
import { deferred } from "../../src/util/async.ts";
import { concat } from "../../src/util/bytes.ts";

export interface TestContext extends TransportContext {
  handlers: Map<string, StreamHandler>;
  inbound: Connection[];
  nextInbound(): Promise<Connection>;
  handshakeErrors: Error[];
}

export function testContext(keyPair = KeyPair.generate()): TestContext {
  const handlers = new Map<string, StreamHandler>();
  const inbound: Connection[] = [];
  let waiter: ReturnType<typeof deferred<Connection>> | null = null;
  const handshakeErrors: Error[] = [];
  return {
    keyPair,
    localId: new NodeId(keyPair.publicKey),
    handlers,
    inbound,
    handshakeErrors,
    gate: (protocol) => handlers.get(protocol) ?? null,
    onInbound(conn) {
      inbound.push(conn);
      if (waiter) {
        const w = waiter;
        waiter = null;
        w.resolve(conn);
      }
    },
    onHandshakeError(error) {
      handshakeErrors.push(error);
    },
    nextInbound() {
      const c = inbound.shift();
      if (c) return Promise.resolve(c);
      waiter = deferred();
      return waiter.promise.then((conn) => {
        inbound.splice(inbound.indexOf(conn), 1);
        return conn;
      });
    },
  };
}

/** Echo handler: copies everything back, then half-closes. */
export const echo: StreamHandler = async (stream) => {
  while (true) {
    const chunk = await stream.read();
    if (chunk === null) break;
    await stream.write(chunk);
  }
  await stream.closeWrite();
};

/** Read everything until EOF. */
export async function readAll(stream: { read(): Promise<Uint8Array | null> }): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let c = await stream.read(); c !== null; c = await stream.read()) chunks.push(c);
  return concat(...chunks);
}
