/**
 * The artifact registry (`node.registry`): publish a file as content with a
 * signed release record, list and inspect the releases of a name found
 * through the mesh, and install one atomically after checking its
 * signature, its chain and its content id. See `docs/registry.md`.
 *
 * @module
 */
import type { AuthService } from "../auth/auth-service.ts";
import { REGISTRY_PUBLISH_COMMAND } from "../auth/commands.ts";
import { CONTENT, type ContentService } from "../content/content-service.ts";
import { DHT, type DhtService } from "../dht/dht.ts";
import { type NodeService, type ServiceHost, type ServiceKey, serviceKey } from "../node/service.ts";
import type { FsApi } from "../platform/types.ts";
import { MaculaError } from "../util/errors.ts";
import { InvalidReleaseError, ReleaseNotFoundError } from "./errors.ts";
import { decodeIndex, encodeIndex, indexValueName, registryKey } from "./index-record.ts";
import { installAtomically, installFileName } from "./install.ts";
import { compareVersions, decodeRelease, encodeRelease, type Release, signRelease } from "./release.ts";
import { ReleaseRecords } from "./release-records.ts";
import { type ReleaseTrust, verifyRelease } from "./verify.ts";

/** Options of the registry service. */
export interface RegistryOptions {
  /** Files (for persisted releases and installs); without it nothing persists and nothing installs. */
  fs?: FsApi;
  /** Where this node's published release records persist (`<dataDir>/registry`). */
  dir?: string;
  /** Default install directory (`<dataDir>/installed`). */
  installDir?: string;
  /** Realm to publish and look in (default: the node's primary realm). */
  realm?: string;
  /** Publishers accepted in an open realm without authorities (`did:key`s); empty = any signed release. */
  trusted?: readonly string[];
  /** The node's auth service (realm authorities, held chains, revocations). */
  auth?: AuthService;
  /** How long a mesh look-up of one publisher's index and records may take, ms (default 10 s). */
  timeout?: number;
}

/** What a publisher gives besides the file. */
export interface PublishRelease {
  /** Artifact name (`io.acme.sensor-agent`). */
  name: string;
  /** Semantic version. */
  version: string;
  /** Target architecture (default `any`). */
  arch?: string;
  /** Release notes. */
  notes?: string;
}

/** Which release `info`/`install` pick. */
export interface ReleaseQuery {
  /** Exact version; absent = the highest. */
  version?: string;
  /** Only releases for this arch (or `any`). */
  arch?: string;
}

/** Where and how `install` puts the artifact. */
export interface InstallOptions extends ReleaseQuery {
  /** Directory (default `RegistryOptions.installDir`). */
  dir?: string;
  /** File name in it (default `<name>@<version>`). */
  file?: string;
  /** Cancels the fetch. */
  signal?: AbortSignal;
}

/** What `install` did. */
export interface Installed {
  /** The verified release. */
  release: Release;
  /** The installed file. */
  path: string;
}

/** The registry service's key. */
export const REGISTRY: ServiceKey<RegistryService> = serviceKey("registry");

/**
 * The registry service.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * await using a = await Node.start({ port: 0, transports: ["tcp"], host: "127.0.0.1" });
 * const bytes = new TextEncoder().encode("#!/bin/sh\necho agent 1.4.0\n");
 * const release = await a.registry.publish(bytes, { name: "io.acme.sensor-agent", version: "1.4.0" });
 * (await a.registry.list("io.acme.sensor-agent")).map((r) => r.version); // ["1.4.0"]
 * ```
 */
export class RegistryService implements NodeService {
  /** Service name. */
  readonly name = "registry";
  /** Runs after the DHT and content. */
  readonly needs = [DHT, CONTENT];
  #opts: RegistryOptions;
  #host?: ServiceHost;
  #dht?: DhtService;
  #content?: ContentService;
  #records: ReleaseRecords;
  #refused = 0;
  #lonely = false;
  #off?: () => void;
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;

  /** A registry with `options` (built by `Node.start`). */
  constructor(options: RegistryOptions = {}) {
    this.#opts = options;
    this.#records = new ReleaseRecords(options.fs, options.dir);
  }

  /** Start: load this node's persisted releases and announce them again. */
  async start(host: ServiceHost): Promise<void> {
    this.#host = host;
    this.#dht = host.use(DHT);
    this.#content = host.use(CONTENT);
    await this.#records.load();
    this.#announceAll();
    // Announced with no peer yet (a restart before joining): announce again once the first peer is known.
    this.#off = host.on("peer:identify", () => {
      if (!this.#lonely) return;
      this.#lonely = false;
      this.#timer = setTimeout(() => this.#announceAll(), 200);
    });
  }

  #announceAll(): void {
    if (this.#stopped) return;
    const own = new Set(this.#records.all().filter((r) => r.issuer === this.#host!.id.did).map((r) => r.name));
    for (const name of own) this.#announce(name).catch(() => {});
  }

  /** Stop listening for peers. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#off?.();
  }

  /** Counts for `/status`. */
  status(): Record<string, unknown> {
    return { releases: this.#records.all().length, refused: this.#refused };
  }

  #realm(): string {
    return this.#opts.realm ?? this.#host!.realms[0];
  }

  /** The trust rules of the registry's realm (see `verifyRelease`). */
  trust(): ReleaseTrust {
    const realm = this.#realm();
    const auth = this.#opts.auth;
    const guarded = auth?.guardedRealms().includes(realm) === true;
    return {
      realm,
      roots: guarded ? new Set(auth!.authorities(realm)) : undefined,
      trusted: this.#opts.trusted?.length ? new Set(this.#opts.trusted) : undefined,
      now: Math.floor(Date.now() / 1000),
      isRevoked: auth ? (cid, issuers) => auth.isRevoked(cid, issuers) : undefined,
    };
  }

  /**
   * Publish an artifact (bytes, a stream, or a file path): store it as
   * pinned content, sign a release record as this node (with the chain it
   * holds that covers `/macula/registry/publish` on the name), check it as
   * any installer would (so a release others would refuse is refused
   * here), persist it and announce it in the DHT.
   */
  async publish(
    source: Uint8Array | ReadableStream<Uint8Array> | string,
    release: PublishRelease,
  ): Promise<Release> {
    const host = this.#started();
    const realm = this.#realm();
    const mcid = await this.#content!.publish(source, { pin: true, name: release.name, realm });
    const arch = release.arch ?? "any";
    const taken = this.#records.of(release.name).find((r) =>
      r.version === release.version && r.arch === arch && r.issuer === host.id.did && r.mcid !== mcid.toString()
    );
    if (taken) {
      throw new InvalidReleaseError(
        `${release.name}@${release.version} (${arch}) is already published with other content (${taken.mcid}); ` +
          "a version is immutable: publish a new version",
      );
    }
    const held = this.#opts.auth?.chains().find((c) =>
      c.covers(REGISTRY_PUBLISH_COMMAND, { realm, name: release.name })
    );
    const signed = signRelease(
      {
        name: release.name,
        version: release.version,
        mcid: mcid.toString(),
        size: mcid.size,
        arch,
        notes: release.notes ?? "",
      },
      host.id.did,
      held?.links ?? [],
      (domain, msg) => host.sign(domain, msg),
    );
    verifyRelease(signed, this.trust());
    await this.#records.add(signed, true);
    await this.#announce(signed.name);
    return signed;
  }

  async #announce(name: string): Promise<void> {
    const realm = this.#realm();
    if (this.#host!.peers().length === 0) this.#lonely = true;
    const own = this.#records.of(name).filter((r) => r.issuer === this.#host!.id.did);
    const ids: string[] = [];
    for (const r of own.sort((a, b) => a.issued - b.issued)) {
      // Under the name too, so that a capability confined to the namespace covers fetching the record.
      ids.push((await this.#content!.publish(encodeRelease(r), { pin: true, realm, name })).toString());
    }
    await this.#dht!.putValue(realm, indexValueName(name), encodeIndex(ids));
    await this.#dht!.provide(realm, registryKey(realm, name));
  }

  /** Verified releases of `name` known here and found through the mesh, highest version first. */
  async list(name: string, options: { signal?: AbortSignal } = {}): Promise<Release[]> {
    return (await this.#gather(name, options.signal)).ok;
  }

  async #gather(name: string, signal?: AbortSignal): Promise<{ ok: Release[]; refused: MaculaError[] }> {
    this.#started();
    const realm = this.#realm();
    const timeout = AbortSignal.timeout(this.#opts.timeout ?? 10_000);
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const providers = await this.#dht!.findProviders(realm, registryKey(realm, name), { signal: sig }).catch(() => []);
    const refused: MaculaError[] = [];
    await Promise.all(providers.map(async (p) => {
      if (p.provider.id.equals(this.#host!.id)) return;
      const value = await this.#dht!.getValue(realm, p.provider.id, indexValueName(name), sig).catch(() => undefined);
      if (!value) return;
      let ids: string[];
      try {
        ids = decodeIndex(value.value);
      } catch (error) {
        refused.push(error as MaculaError);
        return;
      }
      await Promise.all(
        ids.filter((id) => !this.#records.hasRecord(id)).map(async (id) => {
          try {
            const bytes = new Uint8Array(
              await new Response(this.#content!.fetch(id, { signal: sig, realm })).arrayBuffer(),
            );
            const release = decodeRelease(bytes);
            if (release.name !== name) return;
            await this.#records.add(release, false, id);
          } catch (error) {
            if (error instanceof MaculaError) refused.push(error);
          }
        }),
      );
    }));
    const ok: Release[] = [];
    for (const r of this.#records.of(name)) {
      try {
        verifyRelease(r, this.trust());
        ok.push(r);
      } catch (error) {
        refused.push(error as MaculaError);
      }
    }
    this.#refused += refused.length;
    for (const e of refused) this.#host!.log.info("release refused", { name, code: e.code, error: e.message });
    return { ok: ok.sort((a, b) => compareVersions(b.version, a.version) || b.issued - a.issued), refused };
  }

  /**
   * The release `install` would pick: the exact `version`, or the highest;
   * for `arch` (or `any`) when given. Throws the refusal of a matching
   * release that failed its checks (`ReleaseSignatureError`,
   * `ReleaseUnauthorizedError`, …) when no valid one matches, else
   * `ReleaseNotFoundError`.
   */
  async info(name: string, query: ReleaseQuery = {}, signal?: AbortSignal): Promise<Release> {
    const { ok, refused } = await this.#gather(name, signal);
    const match = ok.find((r) =>
      (query.version === undefined || r.version === query.version) &&
      (query.arch === undefined || r.arch === query.arch || r.arch === "any")
    );
    if (match) return match;
    if (refused.length > 0) throw refused[0];
    const what = `${name}${query.version ? `@${query.version}` : ""}${query.arch ? ` for ${query.arch}` : ""}`;
    throw new ReleaseNotFoundError(`no release of ${what} found in realm ${this.#realm()}`);
  }

  /**
   * Install a release: pick it (`info`), fetch its artifact from the mesh,
   * check the bytes against its content id and write it atomically into
   * the directory (temp file, fsync, rename). Resolves with the release
   * and the installed path.
   */
  async install(name: string, options: InstallOptions = {}): Promise<Installed> {
    const fs = this.#opts.fs;
    const dir = options.dir ?? this.#opts.installDir;
    if (!fs || !dir) {
      throw new MaculaError("E_RELEASE_INSTALL", "installing needs a node with files and an install dir");
    }
    const release = await this.info(name, options, options.signal);
    verifyRelease(release, this.trust());
    const path = fs.join(dir, options.file ?? installFileName(release.name, release.version));
    const stream = this.#content!.fetch(release.mcid, { signal: options.signal, realm: this.#realm() });
    await installAtomically(fs, path, stream, release.mcid);
    return { release, path };
  }

  /** Every release this node knows (published here or fetched), unverified order. */
  known(): Release[] {
    return this.#records.all();
  }

  #started(): ServiceHost {
    if (!this.#host) throw new Error("the registry service is not started");
    return this.#host;
  }
}
