/**
 * The default-deny protocol table: a stream is accepted only for a protocol
 * registered here, and only if its `authorize` hook (when given) admits the
 * peer.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { type Connection, isProtocolName, type Stream, type StreamHandler } from "../transport/connection.ts";

/** Decides whether `peer` may use a protocol. */
export type Authorize = (peer: NodeId, protocol: string) => boolean | Promise<boolean>;

/** Options of `ProtocolRegistry.handle`. */
export interface HandleOptions {
  /** Admit only peers for which this returns true. Default: every authenticated peer. */
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
 * }, { authorize: (peer) => peer.did.startsWith("did:key:") });
 * ```
 */
export class ProtocolRegistry {
  #entries = new Map<string, Entry>();
  #onRefused?: (protocol: string, peer: NodeId, why: "unknown" | "unauthorized") => void;

  constructor(options: { onRefused?: (protocol: string, peer: NodeId, why: "unknown" | "unauthorized") => void } = {}) {
    this.#onRefused = options.onRefused;
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
    if (entry.authorize && !(await entry.authorize(connection.remoteId, protocol))) {
      this.#onRefused?.(protocol, connection.remoteId, "unauthorized");
      return null;
    }
    return (stream: Stream) => entry.handler(stream);
  };
}
