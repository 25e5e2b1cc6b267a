/**
 * Macula for Deno: a secure, self-organizing mesh for small boards.
 *
 * Start a node, expose handlers addressed by node id, and talk to other
 * nodes over authenticated, encrypted QUIC or TCP + Noise connections.
 *
 * @example
 * ```ts
 * import { Node } from "./mod.ts";
 *
 * await using a = await Node.start({ dataDir: ".macula/a", host: "127.0.0.1", port: 0 });
 * await using b = await Node.start({ dataDir: ".macula/b", host: "127.0.0.1", port: 0 });
 *
 * a.expose("greet", (from, name) => `hello ${name}, from ${from.short}`);
 * console.log(await b.request(a.addrs[0], "greet", "board-7"));
 * ```
 *
 * @module
 */
export {
  DEFAULT_PORT,
  DEFAULT_REALM,
  type Exposure,
  ListenError,
  Node,
  type NodeOptions,
  type NodeStatus,
  type PeerSummary,
} from "./src/node/node.ts";
export type { ConnectionLimits } from "./src/node/connection-manager.ts";
export type { NodeEvents, NodeService, ServiceContext } from "./src/node/service.ts";
export type { Authorize, HandleOptions } from "./src/node/protocol-registry.ts";
export { type ExposedHandler, RemoteHandlerError, type RequestOptions } from "./src/node/expose.ts";
export { NodeId } from "./src/identity/node-id.ts";
export { KeyPair, verify } from "./src/identity/ed25519.ts";
export { decodeDidKey, DidError, encodeDidKey } from "./src/identity/did.ts";
export { IdentityError, loadOrCreateIdentity } from "./src/identity/key-store.ts";
export {
  createNodeRecord,
  decodeNodeRecord,
  encodeNodeRecord,
  isExpired,
  type NodeRecord,
} from "./src/identity/node-record.ts";
export {
  type DirectAddress,
  formatAddress,
  isTransportName,
  parseAddress,
  type PeerAddress,
  type RelayedAddress,
} from "./src/transport/address.ts";
export { Connection, type OpenStreamOptions, Stream, type StreamHandler } from "./src/transport/connection.ts";
export {
  BUILTIN_TRANSPORTS,
  type CloseInfo,
  type Direction,
  type Route,
  type Session,
  type TransportKind,
} from "./src/transport/session.ts";
export type { DialOptions, Transport, TransportContext } from "./src/transport/transport.ts";
export {
  secureConnection,
  type SecureConnectionOptions,
  secureSession,
  type SecureSessionOptions,
} from "./src/transport/secure-session.ts";
export { type TcpOptions, TcpTransport } from "./src/transport/tcp.ts";
export { type QuicOptions, QuicTransport } from "./src/transport/quic.ts";
export type { ObservedAddress } from "./src/node/observed-addresses.ts";
export { type ByteStream, StreamClosedError, StreamResetError } from "./src/transport/stream.ts";
export { MemoryNetwork, MemoryTransport } from "./src/transport/memory.ts";
export {
  AddressError,
  ConnectionClosedError,
  DialError,
  HandshakeError,
  LimitError,
  PeerIdMismatchError,
  ProtocolRefusedError,
} from "./src/transport/errors.ts";
export { WireError, type WireErrorCode } from "./src/wire/errors.ts";
export { AbortedError, TimeoutError } from "./src/util/async.ts";
export { MaculaError } from "./src/util/errors.ts";
export { type LogFormat, Logger, type LogLevel } from "./src/log/logger.ts";
export { VERSION } from "./src/version.ts";
// Mesh services: DHT, pub/sub, RPC.
export { type DhtOptions, DhtService, RealmError } from "./src/dht/dht.ts";
export { realmKey } from "./src/dht/keys.ts";
export type { ProviderRecord, ValueRecord } from "./src/dht/records.ts";
export { PayloadTooLargeError, type PublishResult, type PubSubOptions, PubSubService } from "./src/pubsub/pubsub.ts";
export { type MessageHandler, type PubSubMessage, Subscription } from "./src/pubsub/subscription.ts";
export { matches, TopicError } from "./src/pubsub/topic.ts";
export {
  type Advertisement,
  type CallContext,
  type CallOptions,
  NoProviderError,
  type RpcHandler,
  type RpcOptions,
  RpcService,
} from "./src/rpc/rpc.ts";
export { RemoteError } from "./src/node/request-channel.ts";
// LAN clustering (multicast / mDNS / static discovery, SWIM membership).
export {
  CLUSTER_STRATEGIES,
  type ClusterOptions,
  ClusterService,
  type ClusterStrategy,
  DEFAULT_CLUSTER_GROUP,
  DEFAULT_CLUSTER_PORT,
  type MemberSummary,
} from "./src/cluster/service.ts";
export type { MembershipEvent } from "./src/cluster/swim/swim.ts";
export type { MemberState } from "./src/cluster/swim/membership.ts";
export type { SwimTimings } from "./src/cluster/options.ts";
export { ClusterError, DatagramDropError, type DropReason } from "./src/cluster/errors.ts";
