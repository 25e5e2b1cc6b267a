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
// The node: start it, expose handlers, talk to peers.
export { defaultServices, Node, type NodeOptions } from "./src/api/node.ts";
export {
  DEFAULT_PORT,
  DEFAULT_REALM,
  type Exposure,
  ListenError,
  NodeCore,
  type NodeStatus,
  type PeerSummary,
} from "./src/node/node.ts";
export type { NodeOptions as NodeCoreOptions } from "./src/node/options.ts";
export type { ConnectionLimits } from "./src/node/connection-manager.ts";
export type { NodeMetrics } from "./src/node/node-metrics.ts";
export { DEFAULT_REQUEST_TIMEOUT, RemoteError, RemoteHandlerError } from "./src/node/envelope.ts";
export type { ExposedHandler, RequestOptions } from "./src/node/expose.ts";
export { type Authorize, NotAuthorizedError, type Operation, type OperationKind } from "./src/node/authorize.ts";
// Services: the plug-in contract of a node.
export {
  type NodeEvents,
  type NodeService,
  type PeerInfo,
  type ServiceHost,
  type ServiceKey,
  serviceKey,
} from "./src/node/service.ts";
export type { HandleOptions } from "./src/node/protocol-registry.ts";
// Identity.
export { type DomainSigner, verifyDomain } from "./src/identity/domain-signature.ts";
export { NodeId } from "./src/identity/node-id.ts";
export { KeyPair, verify } from "./src/identity/ed25519.ts";
export { decodeDidKey, DidError, encodeDidKey } from "./src/identity/did.ts";
export { IdentityError } from "./src/identity/key-store.ts";
export {
  createNodeRecord,
  decodeNodeRecord,
  encodeNodeRecord,
  isExpired,
  type NodeRecord,
  type NodeRecordInit,
} from "./src/identity/node-record.ts";
// Links: addresses, connections, streams.
export {
  type DirectAddress,
  formatAddress,
  isTransportName,
  parseAddress,
  type PeerAddress,
  type RelayedAddress,
} from "./src/transport/address.ts";
export {
  Connection,
  type ConnectionOptions,
  type InboundGate,
  type OpenStreamOptions,
  Stream,
  type StreamHandler,
} from "./src/transport/connection.ts";
export type { RawDuplex } from "./src/secure/secure-channel/noise-channel.ts";
export {
  BUILTIN_TRANSPORTS,
  type CloseInfo,
  type Direction,
  type Route,
  type Session,
  type TransportKind,
} from "./src/transport/session.ts";
export type { DialOptions, Transport, TransportContext } from "./src/transport/transport.ts";
export type { HandshakeRefusal } from "./src/transport/handshake-gate.ts";
export { ConnectionBudget, MemoryBudget, type MemoryBudgetOptions } from "./src/transport/mux/receive-budget.ts";
export {
  secureConnection,
  type SecureConnectionOptions,
  secureSession,
  type SecureSessionOptions,
} from "./src/transport/secure-session.ts";
export { type TcpOptions, TcpTransport } from "./src/transport/tcp.ts";
export { type QuicOptions, QuicTransport } from "./src/transport/quic.ts";
export { PunchEndpoint, type PunchEndpointOptions, type UdpPreopener } from "./src/transport/quic-punch.ts";
export type {
  FileHandle,
  FileInfo,
  FsApi,
  HttpApi,
  HttpServer,
  InterfaceAddress,
  OpenOptions,
  ProcessApi,
  RequestInfo,
  RunResult,
  SocketAddress,
  SpawnedProcess,
  UdpPreopenOptions,
  WebSocketLike,
  WebSocketUpgrade,
} from "./src/platform/types.ts";
export { isWebSocketUpgrade } from "./src/platform/types.ts";
export type { ObservedAddress } from "./src/node/observed-addresses.ts";
export { type ByteStream, StreamClosedError, StreamResetError } from "./src/transport/stream.ts";
export { MemoryNetwork, MemoryTransport } from "./src/transport/memory.ts";
export {
  type WebSocketConstructor,
  WebSocketTransport,
  type WebSocketTransportOptions,
  WS_PATH,
} from "./src/transport/websocket.ts";
export {
  DEFAULT_MAX_WS_MESSAGE,
  type WebSocketDuplex,
  webSocketDuplex,
  type WebSocketDuplexOptions,
  WebSocketProtocolError,
} from "./src/transport/websocket-duplex.ts";
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
// Errors, logging, metrics, version.
export { MaculaError } from "./src/util/errors.ts";
export { AbortedError, TimeoutError } from "./src/util/async.ts";
export { type LogFields, type LogFormat, Logger, type LogLevel } from "./src/log/logger.ts";
export type { Counter, Gauge, Metric, MetricLabels, MetricsRegistry } from "./src/metrics/registry.ts";
export { VERSION } from "./src/version.ts";
// The DHT.
export { DHT, type DhtOptions, DhtService, RealmError, type RoutingTableView } from "./src/dht/dht.ts";
export { type KeyKind, realmKey } from "./src/dht/keys.ts";
export type { LookupPeer, LookupResult } from "./src/dht/lookup.ts";
export type { ProviderRecord, ValueRecord } from "./src/dht/records.ts";
export type { StoreLimits } from "./src/dht/record-store.ts";
export {
  HIERARCHY,
  type HierarchyOptions,
  HierarchyService,
  type HierFindOptions,
  type HierLookup,
} from "./src/hierarchy/hierarchy.ts";
export { LocalityError, parseLocality, scopeLevel } from "./src/hierarchy/locality.ts";
export type { HierKind } from "./src/hierarchy/messages.ts";
export type { LocalityOptions } from "./src/hierarchy/plugin.ts";
// Pub/sub.
export {
  PayloadTooLargeError,
  type PublishResult,
  PUBSUB,
  type PubSubOptions,
  PubSubService,
  type SubscribeOptions,
  type TopicPublishOptions,
} from "./src/pubsub/pubsub.ts";
export type { SubscriberLocator } from "./src/pubsub/locator.ts";
export { type MessageHandler, type PubSubMessage, Subscription } from "./src/pubsub/subscription.ts";
export { matches, TopicError } from "./src/pubsub/topic.ts";
// RPC.
export {
  type Advertisement,
  type AdvertiseOptions,
  type CallContext,
  type CallOptions,
  NoProviderError,
  RPC,
  type RpcHandler,
  type RpcOptions,
  RpcService,
} from "./src/rpc/rpc.ts";
export type { ProviderLocator } from "./src/rpc/locator.ts";
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
export type { Clock } from "./src/cluster/clock.ts";
export type { MembershipEvent } from "./src/cluster/swim/swim.ts";
export type { MemberState } from "./src/cluster/swim/membership.ts";
export type { SwimTimings } from "./src/cluster/options.ts";
export { ClusterError, type DropReason } from "./src/cluster/errors.ts";

export { type RefusalReason, RelayRefusedError } from "./src/relay/errors.ts";
export { type RelayOptions, type RelayPlugins, relayPlugins } from "./src/relay/plugin.ts";
export { RELAY_ROLE, RelayService, type RelayServiceOptions } from "./src/relay/relay-service.ts";
export { RelayClient, type RelayClientOptions, type ReservationState } from "./src/relay/relay-client.ts";
export { RELAY_TRANSPORT, RelayTransport, type ReservedRelay } from "./src/relay/relay-transport.ts";
export { DEFAULT_RELAY_LIMITS, type RelayLimits } from "./src/relay/limits.ts";
export { HOP_PROTOCOL, STOP_PROTOCOL } from "./src/relay/messages.ts";
export { GatewayTransport } from "./src/relay/gateway-transport.ts";
export { GATEWAY_TRANSPORTS, isGatewayClient, reachForClient } from "./src/relay/gateway.ts";
// Reachability and NAT (observed addresses, mapping type, dial-back).
export {
  REACHABILITY,
  type Reachability,
  type ReachabilityOptions,
  ReachabilityService,
  type ReachabilityState,
} from "./src/nat/reachability.ts";
export { type MappingType, type NatMapping } from "./src/nat/mapping.ts";
export { DIALBACK_PROTOCOL, type DialbackLimits } from "./src/nat/dial-back.ts";
export { type DialbackRefusal, DialbackRefusedError } from "./src/nat/errors.ts";
// Hole punching (relayed connections become direct).
export {
  PUNCH,
  type PunchOptions,
  type PunchPeerStatus,
  type PunchQuic,
  PunchService,
  type PunchState,
} from "./src/nat/punch.ts";
export type { AttemptResult, PunchLink } from "./src/nat/punch-attempt.ts";
export {
  PUNCH_PROTOCOL,
  type PunchConnect,
  type PunchMessage,
  type PunchSkip,
  type PunchSync,
  type SkipReason,
} from "./src/nat/punch-messages.ts";
export { ObservedSelf, type SelfReport, type SelfView, type SelfViewSource } from "./src/nat/punch-self.ts";

export {
  CONTENT,
  type ContentEvents,
  type ContentOptions,
  ContentService,
  DEFAULT_CONTENT_QUOTA,
  type FetchOptions,
  type PublishOptions,
} from "./src/content/content-service.ts";
export type { ContentLocator } from "./src/content/locator.ts";
export { Mcid, MCID_VERSION } from "./src/content/mcid.ts";
export { type Codec, CODECS, type TreeHasher } from "./src/content/hash.ts";
export { GROUP_SIZE } from "./src/content/tree.ts";
export { RangeSet } from "./src/content/ranges.ts";
export type { ContentReader, ContentStore, ContentWriter, PutOptions, StoredContent } from "./src/content/store.ts";
export {
  ContentDeniedError,
  ContentNotFoundError,
  ContentVerificationError,
  InvalidContentNameError,
  InvalidMcidError,
  QuotaExceededError,
} from "./src/content/errors.ts";
export { type DownloadProgress, type ProviderProgress } from "./src/content/download.ts";
export { CONTENT_PROTOCOL } from "./src/content/messages.ts";
export { FsContentStore } from "./src/content/fs-store.ts";
export { type OpenStateOptions, STATE, type StateOptions, StateService } from "./src/state/state-service.ts";
export { type StateChange, StateMap } from "./src/state/state-map.ts";
export { StateError } from "./src/state/errors.ts";
export { StateCounter, StateSet } from "./src/state/views.ts";
export { type Entry as StateEntry, Replica, type VersionVector } from "./src/state/replica.ts";
export { type Stamp } from "./src/state/stamp.ts";
export { StateStore } from "./src/state/store.ts";
export { STATE_PROTOCOL } from "./src/state/messages.ts";
export {
  type Installed,
  type InstallOptions,
  type PublishRelease,
  REGISTRY,
  type RegistryOptions,
  RegistryService,
  type ReleaseQuery,
} from "./src/registry/registry-service.ts";
export {
  compareVersions,
  decodeRelease,
  encodeRelease,
  type Release,
  type ReleaseFields,
  type ReleaseJson,
  signRelease,
} from "./src/registry/release.ts";
export { type ReleaseTrust, verifyRelease } from "./src/registry/verify.ts";
export {
  ArtifactMismatchError,
  InstallError,
  InvalidReleaseError,
  RegistryError,
  ReleaseNotFoundError,
  ReleaseSignatureError,
  ReleaseUnauthorizedError,
} from "./src/registry/errors.ts";
export {
  channelName,
  EXIT_RESTART,
  selfUpdate,
  SelfUpdateError,
  type SelfUpdateOptions,
  type SelfUpdateRegistry,
  type SelfUpdateResult,
} from "./src/registry/self-update.ts";
export {
  checkCandidateNode,
  HealthCheckError,
  NODE_HEALTH_TIMEOUT,
  type NodeHealthCheckOptions,
  type PortListener,
} from "./src/registry/health-check.ts";
export { MemoryContentStore } from "./src/content/memory-store.ts";
// WebRTC (browser and node peers over data channels) and rings.
export {
  type Signaler,
  WEBRTC_HOST,
  webrtcAddress,
  type WebRtcCounts,
  type WebRtcObserver,
  type WebRtcOptions,
  WebRtcTransport,
} from "./src/transport/webrtc.ts";
export type { SignalChannel } from "./src/transport/webrtc-negotiate.ts";
export {
  nativeRtcPeerConnection,
  type RtcCandidateInit,
  type RtcDataChannel,
  type RtcDescriptionInit,
  type RtcPeerConnection,
  type RtcPeerConnectionClass,
} from "./src/transport/webrtc-channel.ts";
export {
  decodeSignal,
  encodeSignal,
  type SignalCandidate,
  type SignalDescription,
  type SignalEnd,
  type SignalMessage,
  type SignalRefusal,
  WEBRTC_PROTOCOL,
} from "./src/transport/webrtc-messages.ts";
export { streamChannel, WEBRTC, WebRtcService } from "./src/webrtc/webrtc-service.ts";
export { type WebRtcPluginOptions, type WebRtcPlugins, webrtcPlugins } from "./src/webrtc/plugin.ts";
export { loadNodeWebRtc, type NodeWebRtc } from "./src/platform/webrtc.ts";
export {
  type JoinOptions,
  RINGS,
  type RingsOptions,
  RingsService,
  type RingStatus,
} from "./src/rings/rings-service.ts";
export { Ring, type RingDriver, type RingEvents, type RingMember } from "./src/rings/ring.ts";
export { RingError, type RingErrorCode } from "./src/rings/errors.ts";
export { RING_PROTOCOL, ringTopic, validateRingName } from "./src/rings/messages.ts";
// Authorization: UCAN capability tokens, DID namespaces, closed realms.
export {
  AUTH,
  type AuthEvents,
  type AuthOptions,
  AuthService,
  type RealmAuth,
  type RealmPolicy,
  REVOCATION_TOPIC,
} from "./src/auth/auth-service.ts";
export { AuthConfigError } from "./src/auth/realms.ts";
export { RevocationGossip } from "./src/auth/revocation-gossip.ts";
export { FileRevocationStore, MemoryRevocationStore, type RevocationStore } from "./src/auth/revocation-store.ts";
export { AUTH_PROTOCOL } from "./src/auth/messages.ts";
export {
  APP_CAPABILITIES,
  type AppCapability,
  CAPABILITY_COMMANDS,
  MACULA_COMMAND,
  OPERATION_COMMANDS,
  type OperationArgs,
  operationInvocation,
} from "./src/auth/commands.ts";
export {
  inNamespace,
  isNamespace,
  isPublicTopic,
  MIN_NAMESPACE_SEGMENTS,
  namespaceDid,
  NamespaceError,
  type NamespaceErrorReason,
  namespacePolicy,
  parseNamespaceDid,
  validateNamespace,
} from "./src/auth/namespace.ts";
export {
  type ChainOptions,
  commandProves,
  decodeContainer,
  decodeToken,
  delegate,
  Delegation,
  type DelegationFields,
  encodeContainer,
  evaluatePolicy,
  ExpiredError,
  InvalidAudienceError,
  InvalidClaimError,
  InvalidCommandError,
  InvalidContainerError,
  InvalidPolicyError,
  InvalidRevocationError,
  InvalidSignatureError,
  InvalidSubjectError,
  Invocation,
  MalformedTokenError,
  MatchError,
  NoClockError,
  parseChain,
  type Policy,
  readRevocation,
  RevokedError,
  signerFromKeyPair,
  type Statement,
  TooEarlyError,
  UcanError,
  type UcanSigner,
  UnavailableProofError,
  validateCommand,
  validatePolicy,
  VerifiedChain,
  verifyChain,
} from "./src/ucan/mod.ts";
// Apps: the gatekeeper (admission of mesh apps, per-operation checks, health).
export {
  type AdmitOptions,
  APPS,
  type AppsOptions,
  AppsService,
  type AppStatus,
  type OperationCounts,
} from "./src/apps/apps-service.ts";
export {
  type AppManifest,
  type AppOperation,
  MESH_CALLBACKS,
  type MeshApi,
  type MeshApp,
  type MeshEventMeta,
  type MeshHealth,
  type RpcCallMeta,
} from "./src/apps/app.ts";
export {
  AdmissionError,
  type AdmissionStep,
  type OperationRefusalReason,
  OperationRefusedError,
} from "./src/apps/errors.ts";
export type { AppCallOptions, AppHandle } from "./src/apps/handle.ts";
export type { AppHealth } from "./src/apps/health.ts";
export { type CoveringChain, validateOperation } from "./src/apps/operation.ts";
export {
  type AppClaim,
  type ChainVerifier,
  type ClaimOptions,
  type VerifiedClaim,
  verifyClaim,
} from "./src/apps/pipeline.ts";
export { type ApiEntryProblem, patternWithin } from "./src/apps/api-spec.ts";
export {
  type ManifestCheck,
  type ManifestCheckOptions,
  ManifestError,
  manifestFromJson,
  verifyManifest,
} from "./src/apps/manifest-file.ts";
export {
  CONSOLE_PROTOCOL_VERSION,
  type ConsoleAction,
  type ConsoleActionResult,
  type ConsoleApp,
  type ConsoleContent,
  type ConsoleMember,
  type ConsoleNode,
  type ConsolePeer,
  type ConsoleProcedure,
  type ConsoleRealm,
  type ConsoleRing,
  type ConsoleSeries,
  type ConsoleSnapshot,
  type ConsoleTopic,
} from "./src/console/protocol.ts";
