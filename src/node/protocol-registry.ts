/**
 * The default-deny protocol table: a stream is accepted only for a protocol
 * registered here, and only if the node-wide policy and the protocol's own
 * `authorize` hook (when given) admit the peer for a `"stream"` operation.
 * This is the coarse gate; services decide each operation on the stream
 * again (see `authorize.ts`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { type Connection, isProtocolName, type Stream, type StreamHandler } from "../transport/connection.ts";
import { type Authorize, decide } from "./authorize.ts";

/** Options of `ProtocolRegistry.handle`. */
export interface HandleOptions {
  /** Admit only peers for which this returns true (asked with a `"stream"` operation). Default: every peer. */
  authorize?: Authorize;
}

interface Entry {
  handler: StreamHandler;
  authorize?: Authorize;
}

/**
 * Registered protocols and their handlers.
 *
 * @example
 * ```ts
 * import { ProtocolRegistry } from "./protocol-registry.ts";
 * const registry = new ProtocolRegistry();
 * registry.handle("/example/1", async (stream) => {
 *   await stream.closeWrite();
 * }, { authorize: (peer, op) => op.kind === "stream" && peer.did.startsWith("did:key:") });
 * ```
 */
export class ProtocolRegistry {
  #entries = new Map<string, Entry>();
  #onRefused?: (protocol: string, peer: NodeId, why: "unknown" | "unauthorized") => void;
  #policy?: Authorize;

  /** `policy` is the node-wide hook; `onRefused` hears of every refused stream. */
  constructor(
    options: {
      policy?: Authorize;
      onRefused?: (protocol: string, peer: NodeId, why: "unknown" | "unauthorized") => void;
    } = {},
  ) {
    this.#onRefused = options.onRefused;
    this.#policy = options.policy;
  }

  /**
   * Replace the node-wide hook (the node passes one that also runs its
   * services' policies, e.g. a capability gatekeeper's).
   */
  setPolicy(policy: Authorize | undefined): void {
    this.#policy = policy;
  }

  /** Register `handler` for `protocol`; returns a function that unregisters it. */
  handle(protocol: string, handler: StreamHandler, options: HandleOptions = {}): () => void {
    if (!isProtocolName(protocol)) {
      throw new TypeError(
        `invalid protocol name ${JSON.stringify(protocol)}: expected "/" and up to 127 printable ASCII characters`,
      );
    }
    if (this.#entries.has(protocol)) throw new Error(`protocol ${protocol} is already handled`);
    const entry = { handler, authorize: options.authorize };
    this.#entries.set(protocol, entry);
    return () => {
      if (this.#entries.get(protocol) === entry) this.#entries.delete(protocol);
    };
  }

  /** Registered protocol names. */
  protocols(): string[] {
    return [...this.#entries.keys()];
  }

  /** The `InboundGate` for connections: handler or `null` (refuse). */
  gate = async (protocol: string, connection: Connection): Promise<StreamHandler | null> => {
    const entry = this.#entries.get(protocol);
    if (!entry) {
      this.#onRefused?.(protocol, connection.remoteId, "unknown");
      return null;
    }
    const op = { kind: "stream", name: protocol } as const;
    if ((this.#policy || entry.authorize) && !(await decide(connection.remoteId, op, this.#policy, entry.authorize))) {
      this.#onRefused?.(protocol, connection.remoteId, "unauthorized");
      return null;
    }
    return (stream: Stream) => entry.handler(stream);
  };
}
