/**
 * In-band client authentication for QUIC. TLS already proved the server's
 * id (the dialer pinned it); the client proves its own on a stream the
 * server opens:
 *
 * 1. server → client: `{ v: 1, nonce }` (32 random bytes)
 * 2. client → server: `{ id, sig }`, `sig` = Ed25519 over
 *    `"macula-quic-auth/1" || nonce || serverId || clientId`
 * 3. server → client: one verdict byte, `1` (accepted), then FIN
 * 4. client → server: FIN, once it has read the verdict
 *
 * The client's dial resolves once it has read the verdict; the server
 * hands the connection to its node once the client's FIN arrived (or the
 * connection ended after the verdict: then it was accepted and closed).
 * So a dial that resolved is a connection the listener accepted, closing
 * it at once is a normal close rather than a failed handshake, and the
 * listener never closes a connection (as a duplicate, say) before the
 * client has its verdict. If the proof does not verify, the server closes
 * the connection (code 1, "authentication failed") instead of answering.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { verify } from "../identity/ed25519.ts";
import { NodeId } from "../identity/node-id.ts";
import { concat, utf8 } from "../util/bytes.ts";
import { bytes, literal, messageDecoder, object } from "../wire/schema.ts";
import { BufferedReader, writeFrame } from "../wire/frame.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { HandshakeError } from "./errors.ts";
import type { ByteStream } from "./stream.ts";

const DOMAIN = utf8("macula-quic-auth/1");
const MAX_AUTH_FRAME = 512;
/** The verdict byte of an accepted proof. */
export const AUTH_ACCEPTED = 1;

/** Decodes the server's challenge. */
export const decodeChallenge = messageDecoder(
  "quic auth challenge",
  object({ v: literal(1), nonce: bytes({ length: 32 }) }),
);

/** Decodes the client's proof. */
export const decodeProof = messageDecoder(
  "quic auth proof",
  object({ id: bytes({ length: 32 }), sig: bytes({ length: 64 }) }),
);

function transcript(nonce: Uint8Array, serverId: NodeId, clientId: Uint8Array): Uint8Array {
  return concat(DOMAIN, nonce, serverId.bytes, clientId);
}

async function readOne<T>(reader: BufferedReader, decode: (b: Uint8Array) => T, what: string): Promise<T> {
  const frame = await reader.readFrame(MAX_AUTH_FRAME, what);
  if (frame === null) throw new HandshakeError(`peer closed the connection during ${what}`);
  return decode(frame);
}

/**
 * Server side: challenge the client and verify its proof. Returns the
 * client's proven id; throws `HandshakeError`. On success the caller
 * answers with `sendVerdict` and accepts the connection.
 */
export async function authenticateClient(stream: ByteStream, serverId: NodeId): Promise<NodeId> {
  const reader = new BufferedReader(stream);
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  await writeFrame(stream, encodeCbor({ v: 1, nonce }));
  let proof;
  try {
    proof = await readOne(reader, decodeProof, "quic auth proof");
  } catch (error) {
    throw new HandshakeError(`client authentication failed: ${(error as Error).message}`, { cause: error });
  }
  if (!verify(proof.id, transcript(nonce, serverId, proof.id), proof.sig)) {
    throw new HandshakeError("client authentication failed: bad signature");
  }
  return new NodeId(proof.id);
}

/** Server side: tell the client its proof was accepted (then FIN). */
export async function sendVerdict(stream: ByteStream): Promise<void> {
  await stream.write(Uint8Array.of(AUTH_ACCEPTED));
  await stream.closeWrite();
}

/**
 * Server side, after `sendVerdict`: wait for the client's FIN (it has the
 * verdict) or for the stream to fail (the connection ended after the
 * verdict was sent). Resolves either way.
 */
export async function verdictReceived(stream: ByteStream): Promise<void> {
  try {
    while (await stream.read() !== null) {
      // nothing more is expected; drain until FIN
    }
  } catch {
    // the connection ended: accepted, then closed
  }
}

/** Client side: answer the server's challenge, then wait until the server accepted the proof. */
export async function proveIdentity(stream: ByteStream, keyPair: KeyPair, serverId: NodeId): Promise<void> {
  const reader = new BufferedReader(stream);
  try {
    const challenge = await readOne(reader, decodeChallenge, "quic auth challenge");
    const sig = keyPair.sign(transcript(challenge.nonce, serverId, keyPair.publicKey));
    await writeFrame(stream, encodeCbor({ id: keyPair.publicKey, sig }));
    const verdict = await reader.readExact(1, "quic auth verdict");
    if (verdict === null) throw new HandshakeError("peer closed the connection before accepting our identity proof");
    if (verdict[0] !== AUTH_ACCEPTED) throw new HandshakeError(`peer rejected our identity proof (${verdict[0]})`);
    await stream.closeWrite();
  } catch (error) {
    if (error instanceof HandshakeError) throw error;
    throw new HandshakeError(`identity proof failed: ${(error as Error).message}`, { cause: error });
  }
}
