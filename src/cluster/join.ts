/**
 * Joining through a connection (`/macula/cluster/1`): how `static` seeds,
 * and any seed of the other strategies, bring a node into the cluster
 * without multicast. Each side sends one frame holding its announcement
 * datagram — the same sealed envelope as on UDP, so a cluster secret is
 * enforced here too — and the responder answers only an authentic one.
 *
 * @module
 */
import type { Connection, Stream } from "../transport/connection.ts";
import { MAX_DATAGRAM } from "./envelope.ts";
import type { Swim } from "./swim/swim.ts";

/** The join protocol. */
export const JOIN_PROTOCOL = "/macula/cluster/1";

/**
 * The responder: read the peer's announcement, answer with ours if it was
 * accepted.
 *
 * @example
 * ```ts
 * import type { Node } from "../../mod.ts";
 * import type { Swim } from "./swim/swim.ts";
 * import { handleJoin, JOIN_PROTOCOL } from "./join.ts";
 * declare const node: Node, swim: Swim;
 * node.handle(JOIN_PROTOCOL, handleJoin(swim));
 * ```
 */
export function handleJoin(swim: Swim): (stream: Stream) => Promise<void> {
  return async (stream) => {
    const theirs = await stream.readFrame(MAX_DATAGRAM);
    if (theirs && swim.receive(theirs)) {
      const ours = swim.announcement(false);
      if (ours) await stream.writeFrame(ours);
    }
    await stream.closeWrite();
  };
}

/** The initiator: exchange announcements over `conn`. Resolves true if the peer's was accepted. */
export async function joinOver(conn: Connection, swim: Swim): Promise<boolean> {
  const ours = swim.announcement(true);
  if (!ours) return false;
  const stream = await conn.openStream(JOIN_PROTOCOL);
  try {
    await stream.writeFrame(ours);
    await stream.closeWrite();
    const theirs = await stream.readFrame(MAX_DATAGRAM);
    if (theirs) await stream.readFrame(MAX_DATAGRAM); // read to the end
    return theirs !== null && swim.receive(theirs);
  } catch (error) {
    stream.reset();
    throw error;
  }
}
