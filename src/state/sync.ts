/**
 * The two sides of a `/macula/state/1` stream. The opener sends a `sync`
 * (its vector) and gets back a `delta` with the writes it lacks and the
 * answerer's vector, then sends a `delta` with what the answerer lacks; or
 * it pushes gossip `delta`s. Either side stops reading at the end of the
 * stream. The state service decides what to merge (`Merge`).
 *
 * @module
 */
import type { Stream } from "../transport/connection.ts";
import { decodeStateMessage, type DeltaMessage, encodeStateMessage, MAX_STATE_FRAME } from "./messages.ts";
import type { StateMap } from "./state-map.ts";

/** Merge an incoming delta from the stream's peer (authorized, counted); resolves to whether it was accepted. */
export type Merge = (delta: DeltaMessage) => Promise<boolean>;

/** Whether the stream's peer may read the map `realm`/`name` (authorized, counted). */
export type MayRead = (realm: string, name: string) => Promise<boolean>;

/** Read the next message (or `null` at the end); throws `StateError` for a malformed one. */
async function next(stream: Stream) {
  const bytes = await stream.readFrame(MAX_STATE_FRAME);
  return bytes === null ? null : decodeStateMessage(bytes);
}

function send(stream: Stream, m: Parameters<typeof encodeStateMessage>[0]): Promise<void> {
  return stream.writeFrame(encodeStateMessage(m), MAX_STATE_FRAME);
}

/**
 * As the opener: exchange what each side lacks of `map` with the peer.
 * Resolves to `false` when the peer does not hold the map (or may not read it:
 * then it gets nothing of ours).
 */
export async function syncAsOpener(stream: Stream, map: StateMap, merge: Merge, mayRead: MayRead): Promise<boolean> {
  const { realm, name } = map;
  await send(stream, { t: "sync", realm, name, vector: map.replica.vector() });
  const answer = await next(stream);
  if (answer === null || answer.t !== "delta" || !answer.vector || answer.realm !== realm || answer.name !== name) {
    await stream.closeWrite();
    return false;
  }
  await merge(answer);
  if (!(await mayRead(realm, name))) {
    await stream.closeWrite();
    return false;
  }
  await send(stream, {
    t: "delta",
    realm,
    name,
    entries: map.replica.missing(answer.vector),
    vector: map.replica.vector(),
  });
  await stream.closeWrite();
  await stream.readFrame(MAX_STATE_FRAME);
  return true;
}

/** As the opener: push `delta` (gossip). */
export async function push(stream: Stream, delta: DeltaMessage): Promise<void> {
  await send(stream, delta);
  await stream.closeWrite();
  await stream.readFrame(MAX_STATE_FRAME);
}

/**
 * As the answerer: serve a stream. `lookup` finds an open map (`undefined`
 * when this node does not hold it: the stream ends; so does a `sync` from a
 * peer that may not read the map).
 */
export async function serve(
  stream: Stream,
  lookup: (realm: string, name: string) => StateMap | undefined,
  merge: Merge,
  mayRead: MayRead,
): Promise<void> {
  for (;;) {
    const m = await next(stream);
    if (m === null) break;
    const map = lookup(m.realm, m.name);
    if (!map) break;
    if (m.t === "sync") {
      if (!(await mayRead(m.realm, m.name))) break;
      const entries = map.replica.missing(m.vector);
      await send(stream, { t: "delta", realm: m.realm, name: m.name, entries, vector: map.replica.vector() });
    } else {
      await merge(m);
    }
  }
  await stream.closeWrite();
}
