/**
 * Configuration of `macula start`: defaults < environment < flags (realm
 * settings: defaults < realm file < environment < flags). Every
 * invalid value is a `ConfigError` naming the variable or flag.
 *
 * @module
 */
import { parseAddress } from "../transport/address.ts";
import { isLoopbackHost } from "../http/status-server.ts";
import { type AuthConfig, type AuthFlags, defaultAuthConfig, resolveAuth } from "./auth-config.ts";
import { LOCALITY_ENV, type LocalityConfig, type LocalityFlags, resolveLocality } from "./locality-flags.ts";
import { ConfigError } from "./config-error.ts";
import type { LogFormat, LogLevel } from "../log/logger.ts";
import { DEFAULT_PORT, DEFAULT_REALM } from "../node/node.ts";
import {
  CLUSTER_STRATEGIES,
  type ClusterStrategy,
  DEFAULT_CLUSTER_GROUP,
  DEFAULT_CLUSTER_PORT,
} from "../cluster/service.ts";
import { isIPv4, isMulticastIPv4 } from "../cluster/endpoint.ts";

export { ConfigError };

/** Resolved configuration of a node process. */
export interface StartConfig {
  dataDir: string;
  host: string;
  port: number;
  healthHost: string;
  healthPort: number;
  seeds: string[];
  realms: string[];
  logFormat: LogFormat;
  logLevel: LogLevel;
  cluster: ClusterConfig;
  relay: RelayConfig;
  /** Upgrade relayed connections to direct ones by hole punching. */
  punch: boolean;
  /** Content service settings. */
  content: ContentConfig;
  /** Realm policies and authorities, token files, clock skew (see `auth-config.ts`). */
  auth: AuthConfig;
  /** Turn the web console's actions off (`--console-readonly`). */
  consoleReadonly: boolean;
  /** Serve the WebSocket link (browsers, `ws://` peers) on the status server's `/macula/ws`. */
  ws: boolean;
  /** Locality path and bridged levels (`--locality`, `--bridge`; see `locality-flags.ts`); absent = no hierarchy. */
  hierarchy?: LocalityConfig;
}

/** Content settings (`MACULA_CONTENT_*`, `--content-*`); absent = the service's default. */
export interface ContentConfig {
  /** Store quota, bytes. */
  quota?: number;
  /** Node-wide upload cap, bytes/s (0 = unlimited). */
  uploadRate?: number;
  /** Concurrent serving sessions. */
  maxUploads?: number;
  /** Become a provider of fetched content. */
  provide: boolean;
}

/** Relay settings (`MACULA_RELAY*`, `--relay*`). */
export interface RelayConfig {
  /** Serve as a relay. */
  serve: boolean;
  /** Relays to reserve at (direct addresses with their did:key). */
  via: string[];
  /** Who may reserve here: `"*"` or realms; absent = this node's realms. */
  realms?: "*" | string[];
  /** Relays to keep peered with (direct addresses with their did:key). */
  peers: string[];
  /** Operator limits when serving (see `RelayLimits`); unset ones keep their defaults. */
  limits: Partial<Record<RelayLimitName, number>>;
}

/** The relay limits an operator may set (`--relay-limit NAME=N`, `MACULA_RELAY_LIMITS`). */
export const RELAY_LIMIT_NAMES = [
  "maxReservations",
  "maxCircuitsPerPeer",
  "maxCircuits",
  "circuitRate",
  "totalRate",
  "reservationTtl",
] as const;

/** One of `RELAY_LIMIT_NAMES`. */
export type RelayLimitName = typeof RELAY_LIMIT_NAMES[number];

/** Clustering settings (`CLUSTER_*`, `--cluster-*`). */
export interface ClusterConfig {
  /** `off` runs no clustering at all. */
  strategy: ClusterStrategy | "off";
  /** Shared secret (HMAC); absent = an open cluster. */
  secret?: string;
  /** Multicast group and port of announcements. */
  group: string;
  port: number;
  /** Interface names or addresses; empty = every non-loopback IPv4 interface. */
  interfaces: string[];
  /** UDP port of SWIM traffic; 0 = any free port. */
  swimPort: number;
}

/** Environment variables the node reads (and may read, permission-wise). */
export const ENV_VARS = [
  "MACULA_QUIC_PORT",
  "MACULA_HOST",
  "MACULA_REALM",
  "MACULA_DATA_DIR",
  "MACULA_SEEDS",
  "MACULA_LOG_FORMAT",
  "MACULA_LOG_LEVEL",
  "MACULA_HEALTH_HOST",
  "HEALTH_PORT",
  "CLUSTER_STRATEGY",
  "CLUSTER_SECRET",
  "CLUSTER_GROUP",
  "CLUSTER_PORT",
  "CLUSTER_INTERFACES",
  "CLUSTER_SWIM_PORT",
  "MACULA_RELAY",
  "MACULA_RELAYS",
  "MACULA_RELAY_REALMS",
  "MACULA_RELAY_PEERS",
  "MACULA_RELAY_LIMITS",
  "MACULA_PUNCH",
  "MACULA_CONTENT_QUOTA",
  "MACULA_CONTENT_UPLOAD_RATE",
  "MACULA_CONTENT_UPLOADS",
  "MACULA_CONTENT_PROVIDE",
  "MACULA_REALM_POLICY",
  "MACULA_REALM_AUTHORITY",
  "MACULA_REALM_FILE",
  "MACULA_UCAN",
  "MACULA_CLOCK_SKEW",
  "MACULA_CONSOLE_READONLY",
  "MACULA_WS",
  ...LOCALITY_ENV,
] as const;

/** Flags as parsed from the command line (absent = not given). */
export interface StartFlags extends AuthFlags, LocalityFlags {
  "data-dir"?: string;
  host?: string;
  port?: string;
  "health-host"?: string;
  "health-port"?: string;
  seed?: string[];
  realm?: string[];
  "log-format"?: string;
  "log-level"?: string;
  "cluster-strategy"?: string;
  "cluster-secret"?: string;
  "cluster-group"?: string;
  "cluster-port"?: string;
  "cluster-interface"?: string[];
  "cluster-swim-port"?: string;
  relay?: boolean;
  "relay-via"?: string[];
  "relay-realms"?: string;
  "relay-peer"?: string[];
  "relay-limit"?: string[];
  "no-punch"?: boolean;
  "content-quota"?: string;
  "content-upload-rate"?: string;
  "content-uploads"?: string;
  "no-content-provide"?: boolean;
  "console-readonly"?: boolean;
  "no-ws"?: boolean;
}

/** Defaults: a useful node with no configuration at all. */
export const DEFAULTS: StartConfig = {
  dataDir: ".macula",
  host: "0.0.0.0",
  port: DEFAULT_PORT,
  healthHost: "127.0.0.1",
  healthPort: 8080,
  seeds: [],
  realms: [DEFAULT_REALM],
  logFormat: "text",
  logLevel: "info",
  cluster: {
    strategy: "gossip",
    group: DEFAULT_CLUSTER_GROUP,
    port: DEFAULT_CLUSTER_PORT,
    interfaces: [],
    swimPort: 0,
  },
  relay: { serve: false, via: [], peers: [], limits: {} },
  punch: true,
  content: { provide: true },
  auth: defaultAuthConfig(),
  consoleReadonly: false,
  ws: true,
};

function port(value: string, source: string, allowZero = true): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535 || (!allowZero && Number(value) === 0)) {
    throw new ConfigError(
      `invalid ${source} ${JSON.stringify(value)}: expected a port number ${allowZero ? 0 : 1}-65535`,
    );
  }
  return Number(value);
}

function host(value: string, source: string): string {
  const v = value.trim();
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(v)) {
    throw new ConfigError(`invalid ${source} ${JSON.stringify(value)}: expected an IP address or host name`);
  }
  return v;
}

const REALM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function realm(value: string, source: string): string {
  if (!REALM.test(value)) {
    throw new ConfigError(
      `invalid ${source} ${
        JSON.stringify(value)
      }: a realm is 1-63 of A-Z a-z 0-9 . _ - starting alphanumeric (e.g. io.example.app)`,
    );
  }
  return value;
}

function seed(value: string, source: string): string {
  try {
    parseAddress(value, { requireId: true });
  } catch (error) {
    throw new ConfigError(`invalid ${source}: ${(error as Error).message}`);
  }
  return value.trim();
}

/** A relay's direct address with its did:key. */
function relayAddress(value: string, source: string): string {
  const v = seed(value, source);
  if (parseAddress(v).type !== "direct") {
    throw new ConfigError(`invalid ${source}: a relay is given by its direct address, not a relayed one`);
  }
  return v;
}

/** `*` (anyone) or a list of realms. */
function relayRealms(value: string, source: string): "*" | string[] {
  if (value.trim() === "*") return "*";
  const list = splitList(value).map((r) => realm(r, source));
  if (list.length === 0) throw new ConfigError(`invalid ${source}: name realms or *`);
  return list;
}

/** `NAME=N` settings of relay limits (0 rates: unlimited; ttl at least 10 s). */
function relayLimits(items: string[], source: string): Partial<Record<RelayLimitName, number>> {
  const out: Partial<Record<RelayLimitName, number>> = {};
  for (const item of items) {
    const m = /^([A-Za-z]+)=(\d{1,15})$/.exec(item.trim());
    const name = m?.[1] as RelayLimitName | undefined;
    if (!m || !RELAY_LIMIT_NAMES.includes(name!)) {
      throw new ConfigError(
        `invalid ${source} ${JSON.stringify(item)}: expected NAME=N with NAME one of ${RELAY_LIMIT_NAMES.join(", ")}`,
      );
    }
    const value = Number(m[2]);
    if (name === "reservationTtl" && value < 10_000) {
      throw new ConfigError(`invalid ${source}: reservationTtl is at least 10000 ms`);
    }
    out[name!] = value;
  }
  return out;
}

function flagBool(value: string, source: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(`invalid ${source} ${JSON.stringify(value)}: expected 1 or 0`);
}

function resolveRelay(cfg: RelayConfig, e: (name: string) => string | undefined, flags: StartFlags): void {
  if (e("MACULA_RELAY")) cfg.serve = flagBool(e("MACULA_RELAY")!, "MACULA_RELAY");
  if (e("MACULA_RELAYS")) cfg.via = splitList(e("MACULA_RELAYS")!).map((s) => relayAddress(s, "MACULA_RELAYS"));
  if (e("MACULA_RELAY_REALMS")) cfg.realms = relayRealms(e("MACULA_RELAY_REALMS")!, "MACULA_RELAY_REALMS");
  if (e("MACULA_RELAY_PEERS")) {
    cfg.peers = splitList(e("MACULA_RELAY_PEERS")!).map((s) => relayAddress(s, "MACULA_RELAY_PEERS"));
  }
  if (e("MACULA_RELAY_LIMITS")) {
    cfg.limits = relayLimits(splitList(e("MACULA_RELAY_LIMITS")!), "MACULA_RELAY_LIMITS");
  }
  if (flags.relay) cfg.serve = true;
  if (flags["relay-via"]?.length) cfg.via = flags["relay-via"].map((s) => relayAddress(s, "--relay-via"));
  if (flags["relay-realms"] !== undefined) cfg.realms = relayRealms(flags["relay-realms"], "--relay-realms");
  if (flags["relay-limit"]?.length) {
    cfg.limits = { ...cfg.limits, ...relayLimits(flags["relay-limit"], "--relay-limit") };
  }
  if (flags["relay-peer"]?.length) cfg.peers = flags["relay-peer"].map((s) => relayAddress(s, "--relay-peer"));
}

function oneOf<T extends string>(value: string, allowed: readonly T[], source: string): T {
  if (!allowed.includes(value as T)) {
    throw new ConfigError(`invalid ${source} ${JSON.stringify(value)}: expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

const STRATEGIES = [...CLUSTER_STRATEGIES, "off"] as const;
/** Shortest accepted cluster secret, characters. */
export const MIN_SECRET_LENGTH = 8;

function secret(value: string, source: string): string {
  // Never echo the value: it is a secret.
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`invalid ${source}: a cluster secret needs at least ${MIN_SECRET_LENGTH} characters`);
  }
  return value;
}

function multicastGroup(value: string, source: string): string {
  const v = value.trim();
  if (!isMulticastIPv4(v)) {
    throw new ConfigError(
      `invalid ${source} ${JSON.stringify(value)}: expected an IPv4 multicast address (224.0.0.0-239.255.255.255)`,
    );
  }
  return v;
}

function clusterInterface(value: string, source: string): string {
  const v = value.trim();
  if (!isIPv4(v) && !/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,14}$/.test(v)) {
    throw new ConfigError(`invalid ${source} ${JSON.stringify(value)}: expected an interface name or IPv4 address`);
  }
  return v;
}

function resolveCluster(cfg: ClusterConfig, e: (name: string) => string | undefined, flags: StartFlags): void {
  if (e("CLUSTER_STRATEGY")) cfg.strategy = oneOf(e("CLUSTER_STRATEGY")!, STRATEGIES, "CLUSTER_STRATEGY");
  if (e("CLUSTER_SECRET")) cfg.secret = secret(e("CLUSTER_SECRET")!, "CLUSTER_SECRET");
  if (e("CLUSTER_GROUP")) cfg.group = multicastGroup(e("CLUSTER_GROUP")!, "CLUSTER_GROUP");
  if (e("CLUSTER_PORT")) cfg.port = port(e("CLUSTER_PORT")!, "CLUSTER_PORT", false);
  if (e("CLUSTER_INTERFACES")) {
    cfg.interfaces = splitList(e("CLUSTER_INTERFACES")!).map((i) => clusterInterface(i, "CLUSTER_INTERFACES"));
  }
  if (e("CLUSTER_SWIM_PORT")) cfg.swimPort = port(e("CLUSTER_SWIM_PORT")!, "CLUSTER_SWIM_PORT");
  const f = flags;
  if (f["cluster-strategy"] !== undefined) {
    cfg.strategy = oneOf(f["cluster-strategy"], STRATEGIES, "--cluster-strategy");
  }
  if (f["cluster-secret"] !== undefined) cfg.secret = secret(f["cluster-secret"], "--cluster-secret");
  if (f["cluster-group"] !== undefined) cfg.group = multicastGroup(f["cluster-group"], "--cluster-group");
  if (f["cluster-port"] !== undefined) cfg.port = port(f["cluster-port"], "--cluster-port", false);
  if (f["cluster-interface"]?.length) {
    cfg.interfaces = f["cluster-interface"].map((i) => clusterInterface(i, "--cluster-interface"));
  }
  if (f["cluster-swim-port"] !== undefined) cfg.swimPort = port(f["cluster-swim-port"], "--cluster-swim-port");
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * A byte count: digits with an optional K, M, G or T (powers of 1024; `KiB`,
 * `MB` spellings accepted), e.g. `512M`, `4G`, `1.5G`; with `perSecond`
 * a trailing `/s` is allowed too.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "./config.ts";
 * parseByteSize("512M", "--content-quota");            // 536870912
 * parseByteSize("2M/s", "--content-upload-rate", true); // 2097152
 * ```
 */
export function parseByteSize(value: string, source: string, perSecond = false): number {
  const m = /^\s*(\d{1,15}(?:\.\d{1,6})?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(
    perSecond ? value.replace(/\/s\s*$/i, "") : value,
  );
  const n = m ? Math.floor(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError(
      `invalid ${source} ${JSON.stringify(value)}: expected ${
        perSecond ? "bytes/s" : "a size"
      } with an optional K, M, G or T suffix (e.g. ${perSecond ? "512K or 2M" : "512M or 4G"})`,
    );
  }
  return n;
}

function resolveContent(cfg: ContentConfig, e: (name: string) => string | undefined, flags: StartFlags): void {
  const quota = (v: string, source: string) => {
    const n = parseByteSize(v, source);
    if (n === 0) throw new ConfigError(`invalid ${source} ${JSON.stringify(v)}: the quota must be above 0`);
    return n;
  };
  const uploads = (v: string, source: string) => {
    if (!/^\d{1,4}$/.test(v.trim()) || Number(v) === 0) {
      throw new ConfigError(`invalid ${source} ${JSON.stringify(v)}: expected a number of uploads 1-9999`);
    }
    return Number(v);
  };
  if (e("MACULA_CONTENT_QUOTA")) cfg.quota = quota(e("MACULA_CONTENT_QUOTA")!, "MACULA_CONTENT_QUOTA");
  if (e("MACULA_CONTENT_UPLOAD_RATE")) {
    cfg.uploadRate = parseByteSize(e("MACULA_CONTENT_UPLOAD_RATE")!, "MACULA_CONTENT_UPLOAD_RATE", true);
  }
  if (e("MACULA_CONTENT_UPLOADS")) cfg.maxUploads = uploads(e("MACULA_CONTENT_UPLOADS")!, "MACULA_CONTENT_UPLOADS");
  if (e("MACULA_CONTENT_PROVIDE")) cfg.provide = flagBool(e("MACULA_CONTENT_PROVIDE")!, "MACULA_CONTENT_PROVIDE");
  if (flags["content-quota"] !== undefined) cfg.quota = quota(flags["content-quota"], "--content-quota");
  if (flags["content-upload-rate"] !== undefined) {
    cfg.uploadRate = parseByteSize(flags["content-upload-rate"], "--content-upload-rate", true);
  }
  if (flags["content-uploads"] !== undefined) cfg.maxUploads = uploads(flags["content-uploads"], "--content-uploads");
  if (flags["no-content-provide"]) cfg.provide = false;
}

function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s.length > 0);
}

/**
 * Resolve the configuration.
 *
 * @example
 * ```ts
 * import { resolveStartConfig } from "./config.ts";
 * const cfg = resolveStartConfig({ HEALTH_PORT: "8081" }, { port: "9444" });
 * cfg.port;       // 9444
 * cfg.healthPort; // 8081
 * ```
 */
export function resolveStartConfig(env: Partial<Record<string, string>>, flags: StartFlags): StartConfig {
  const cfg: StartConfig = {
    ...DEFAULTS,
    seeds: [],
    realms: [...DEFAULTS.realms],
    cluster: { ...DEFAULTS.cluster, interfaces: [] },
    relay: { serve: false, via: [], peers: [], limits: {} },
    content: { ...DEFAULTS.content },
    auth: defaultAuthConfig(),
  };
  const e = (name: string) => {
    const v = env[name];
    return v === undefined || v === "" ? undefined : v;
  };
  // Environment.
  if (e("MACULA_DATA_DIR")) cfg.dataDir = e("MACULA_DATA_DIR")!;
  if (e("MACULA_HOST")) cfg.host = host(e("MACULA_HOST")!, "MACULA_HOST");
  if (e("MACULA_QUIC_PORT")) cfg.port = port(e("MACULA_QUIC_PORT")!, "MACULA_QUIC_PORT");
  if (e("MACULA_HEALTH_HOST")) cfg.healthHost = host(e("MACULA_HEALTH_HOST")!, "MACULA_HEALTH_HOST");
  if (e("HEALTH_PORT")) cfg.healthPort = port(e("HEALTH_PORT")!, "HEALTH_PORT");
  if (e("MACULA_REALM")) {
    cfg.realms = splitList(e("MACULA_REALM")!).map((r) => realm(r, "MACULA_REALM"));
    if (cfg.realms.length === 0) {
      throw new ConfigError(`invalid MACULA_REALM ${JSON.stringify(e("MACULA_REALM"))}: no realm named`);
    }
  }
  if (e("MACULA_SEEDS")) cfg.seeds = splitList(e("MACULA_SEEDS")!).map((s) => seed(s, "MACULA_SEEDS"));
  if (e("MACULA_LOG_FORMAT")) cfg.logFormat = oneOf(e("MACULA_LOG_FORMAT")!, ["text", "json"], "MACULA_LOG_FORMAT");
  if (e("MACULA_LOG_LEVEL")) {
    cfg.logLevel = oneOf(e("MACULA_LOG_LEVEL")!, ["debug", "info", "warn", "error"], "MACULA_LOG_LEVEL");
  }
  // Flags.
  if (flags["data-dir"] !== undefined) {
    if (flags["data-dir"] === "") throw new ConfigError("invalid --data-dir: must not be empty");
    cfg.dataDir = flags["data-dir"];
  }
  if (flags.host !== undefined) cfg.host = host(flags.host, "--host");
  if (flags.port !== undefined) cfg.port = port(flags.port, "--port");
  if (flags["health-host"] !== undefined) cfg.healthHost = host(flags["health-host"], "--health-host");
  if (flags["health-port"] !== undefined) cfg.healthPort = port(flags["health-port"], "--health-port");
  if (flags.realm?.length) cfg.realms = flags.realm.map((r) => realm(r, "--realm"));
  if (flags.seed?.length) cfg.seeds = flags.seed.map((s) => seed(s, "--seed"));
  if (flags["log-format"] !== undefined) cfg.logFormat = oneOf(flags["log-format"], ["text", "json"], "--log-format");
  if (flags["log-level"] !== undefined) {
    cfg.logLevel = oneOf(flags["log-level"], ["debug", "info", "warn", "error"], "--log-level");
  }
  resolveCluster(cfg.cluster, e, flags);
  resolveRelay(cfg.relay, e, flags);
  if (e("MACULA_PUNCH")) cfg.punch = flagBool(e("MACULA_PUNCH")!, "MACULA_PUNCH");
  if (flags["no-punch"]) cfg.punch = false;
  if (e("MACULA_WS")) cfg.ws = flagBool(e("MACULA_WS")!, "MACULA_WS");
  if (flags["no-ws"]) cfg.ws = false;
  resolveContent(cfg.content, e, flags);
  resolveAuth(cfg.auth, e, flags);
  if (e("MACULA_CONSOLE_READONLY")) {
    cfg.consoleReadonly = flagBool(e("MACULA_CONSOLE_READONLY")!, "MACULA_CONSOLE_READONLY");
  }
  if (flags["console-readonly"]) cfg.consoleReadonly = true;
  const hierarchy = resolveLocality(e, flags);
  if (hierarchy.locality !== undefined) cfg.hierarchy = hierarchy;
  return cfg;
}

/** Read the documented environment variables through `get`. */
export function readEnv(get: (name: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ENV_VARS) {
    const v = get(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * Whether the node announces its WebSocket address (`ws://HEALTH-HOST:PORT/did`)
 * in its record: when the link is on and other nodes can reach the status
 * server — not when it listens on loopback while the node itself is reachable
 * from elsewhere (the default: peers would dial their own machine). It is
 * served either way.
 *
 * @example
 * ```ts
 * import { announcesWebSocket, DEFAULTS } from "./config.ts";
 * announcesWebSocket(DEFAULTS); // false: status server on 127.0.0.1, node on 0.0.0.0
 * announcesWebSocket({ ...DEFAULTS, healthHost: "0.0.0.0" }); // true
 * ```
 */
export function announcesWebSocket(cfg: Pick<StartConfig, "ws" | "host" | "healthHost">): boolean {
  return cfg.ws && (!isLoopbackHost(cfg.healthHost) || isLoopbackHost(cfg.host));
}
