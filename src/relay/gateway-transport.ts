/**
 * The client side of a gateway: a node that can dial only WebSockets (a
 * browser) reaches any other node through its gateway. This transport
 * (kind `"gateway"`, listening nowhere) takes every direct address no
 * transport before it can dial (QUIC, TCP, …) and dials it as the relayed
 * address `<gateway>/circuit/<target>`: the gateway opens the circuit to the
 * target id (connecting to it as it can) and the Noise XX session runs end
 * to end through it (`route: "relayed"`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { type DirectAddress, formatAddress, type PeerAddress } from "../transport/address.ts";
import type { Connection } from "../transport/connection.ts";
import { DialError } from "../transport/errors.ts";
import type { DialOptions, Transport, TransportContext } from "../transport/transport.ts";
import type { RelayTransport } from "./relay-transport.ts";

/**
 * Dials through a gateway. Put it after the node's own transports (the
 * node picks the first transport that can dial an address).
 *
 * @example
 * ```ts
 * import { GatewayTransport } from "./gateway-transport.ts";
 * import { RelayTransport } from "./relay-transport.ts";
 * import { parseAddress } from "../transport/address.ts";
 * const gw = parseAddress("ws://127.0.0.1:8080/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
 * if (gw.type === "direct" && gw.id) {
 *   const transport = new GatewayTransport(new RelayTransport(), { ...gw, id: gw.id });
 *   transport.canDial(parseAddress("tcp://10.0.0.2:9443")); // true
 * }
 * ```
 */
export class GatewayTransport implements Transport {
  readonly kind = "gateway";
  readonly listenAddresses: PeerAddress[] = [];
  readonly #relay: RelayTransport;
  readonly #gateway: DirectAddress & { id: NodeId };

  /** Dial through `gateway` (a direct address with its id) with `relay`, the node's relay transport. */
  constructor(relay: RelayTransport, gateway: DirectAddress & { id: NodeId }) {
    this.#relay = relay;
    this.#gateway = gateway;
  }

  /** The gateway dialed through. */
  get gateway(): DirectAddress & { id: NodeId } {
    return this.#gateway;
  }

  start(_ctx: TransportContext): Promise<void> {
    return Promise.resolve();
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && address.kind !== "memory" && !address.id?.equals(this.#gateway.id);
  }

  dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    if (!this.canDial(address) || expected.equals(this.#gateway.id)) {
      return Promise.reject(new DialError(`the gateway transport does not dial ${formatAddress(address)}`));
    }
    return this.#relay.dial({ type: "relayed", relay: this.#gateway, id: expected }, expected, options);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
