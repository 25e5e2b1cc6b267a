/**
 * The contract of a mesh app (the TypeScript form of Macula's
 * `macula_protocol` behaviour) and the manifest the gatekeeper makes of an
 * admitted one.
 *
 * @module
 */
import type { AppCapability } from "../auth/commands.ts";

/** What an app offers and uses on the mesh. */
export interface MeshApi {
  /**
   * Topics and subscription patterns (`*`, trailing `>`) it publishes to or
   * subscribes to, inside its namespace; subscriptions may also name public
   * topics (`….public.…`) of other namespaces.
   */
  readonly topics: readonly string[];
  /** Procedures it registers or calls, inside its namespace. */
  readonly procedures: readonly string[];
  /** Content types it provides or consumes (non-empty strings, e.g. `image/png`). */
  readonly contentTypes: readonly string[];
}

/** Who published an event delivered to an app. */
export interface MeshEventMeta {
  /** The publisher's node id (`did:key`). */
  publisher: string;
}

/** Who called an app's procedure. */
export interface RpcCallMeta {
  /** The caller's node id (`did:key`), proven by the transport. */
  caller: string;
}

/** The answer of a health check: `true`, or what is wrong. */
export type MeshHealth = true | { error: string };

/**
 * A mesh app: the eight callbacks the gatekeeper requires.
 *
 * @example
 * ```ts
 * import type { MeshApp } from "./app.ts";
 * const weather: MeshApp = {
 *   meshIdentity: () => "io.acme.plant3.weather",
 *   meshCapabilities: () => ["publish", "subscribe", "register"],
 *   meshApi: () => ({
 *     topics: ["io.acme.plant3.weather.updates"],
 *     procedures: ["io.acme.plant3.weather.forecast"],
 *     contentTypes: [],
 *   }),
 *   handleMeshEvent: (topic, payload) => console.log(topic, payload.length),
 *   handleRpcCall: (_procedure, args) => ({ forecast: "sunny", args }),
 *   provideContent: () => undefined,
 *   contentReceived: () => {},
 *   meshHealth: () => true,
 * };
 * ```
 */
export interface MeshApp {
  /** Reverse-domain identity, at least three segments, inside a namespace (`io.acme.plant3.weather`). */
  meshIdentity(): string;
  /** The capabilities it needs: a subset of `publish`, `subscribe`, `call`, `register`, `provide_content`, `consume_content`. */
  meshCapabilities(): readonly AppCapability[];
  /** Its topics, procedures and content types. */
  meshApi(): MeshApi;
  /** An event on one of its subscribed topics (a non-byte payload arrives CBOR-encoded). */
  handleMeshEvent(topic: string, payload: Uint8Array, meta: MeshEventMeta): void | Promise<void>;
  /** A call of one of its registered procedures; the answer is the result (any CBOR value). */
  handleRpcCall(procedure: string, args: unknown, meta: RpcCallMeta): unknown | Promise<unknown>;
  /** The bytes of its content `name` of `contentType` (for `AppHandle.provide`), or `undefined`. */
  provideContent(contentType: string, name: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Content it fetched, verified, with the content type it was fetched as. */
  contentReceived(mcid: string, contentType: string, bytes: Uint8Array): void | Promise<void>;
  /** `true` when it works, else what is wrong; called at admission and periodically. */
  meshHealth(): MeshHealth | Promise<MeshHealth>;
}

/** The eight callbacks of a `MeshApp`, in the order the gatekeeper checks them. */
export const MESH_CALLBACKS: readonly (keyof MeshApp)[] = [
  "meshIdentity",
  "meshCapabilities",
  "meshApi",
  "handleMeshEvent",
  "handleRpcCall",
  "provideContent",
  "contentReceived",
  "meshHealth",
];

/** An operation an app asks of its handle: the capability it needs. */
export type AppOperation = AppCapability;

/** What the gatekeeper verified about an admitted app. */
export interface AppManifest {
  /** The app's identity (`meshIdentity()`). */
  identity: string;
  /** The namespace its proof grants (the shortest one containing the identity). */
  namespace: string;
  /** The realm it was admitted in. */
  realm: string;
  /** Its declared capabilities. */
  capabilities: AppCapability[];
  /** Its declared API. */
  api: MeshApi;
  /** Lowercase hex SHA-256 of the app's 32-byte Ed25519 public key (64 characters), for audit. */
  keyFingerprint: string;
  /** The app's key as a `did:key`. */
  did: string;
  /** When it was verified (ISO 8601). */
  verifiedAt: string;
  /** When its proof expires (seconds since the epoch, the chain's earliest `exp`), or `null` for never. */
  expires: number | null;
}
