/**
 * `macula start`: run a node until SIGINT/SIGTERM.
 *
 * @module
 */
import { ClusterService } from "../../cluster/service.ts";
import { startStatusServer } from "../../http/status-server.ts";
import { contentRoutes } from "../../http/content-routes.ts";
import { registryRoutes } from "../../http/registry-routes.ts";
import { EXIT_RESTART } from "../../registry/self-update.ts";
import { updateThisNode } from "./self-update.ts";
import { type MeshApi, meshRoutes } from "../../http/mesh-routes.ts";
import { stateRoutes } from "../../http/state-routes.ts";
import { authRoutes } from "../../http/auth-routes.ts";
import { consoleRoutes } from "../../http/console-routes.ts";
import { browserRoutes } from "../../http/browser-routes.ts";
import { requiresToken } from "../../http/status-server.ts";
import { loadConsoleToken } from "../../console/token.ts";
import { NodeId } from "../../identity/node-id.ts";
import { loadKeyPair } from "../../node/node-wiring.ts";
import { resolveNodeAuth } from "../auth-start.ts";
import { Logger } from "../../log/logger.ts";
import { Node } from "../../api/node.ts";
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { describeError, parse } from "../args.ts";
import { announcesWebSocket, ConfigError, readEnv, resolveStartConfig, type StartFlags } from "../config.ts";
import { LOCALITY_FLAGS } from "../locality-flags.ts";
import { HELP } from "../help.ts";
import { WebSocketTransport } from "../../transport/websocket.ts";
import type { Route } from "../../http/status-server.ts";
import { AUTH_FLAGS } from "../auth-flags.ts";
import { AUTO_UPDATE_FLAGS, autoUpdateConfig, startAutoUpdate } from "../auto-update.ts";
import { guardPendingUpdate } from "../pending-start.ts";
import { VERSION } from "../../version.ts";

/** The status server's `/macula/ws` route, into the node's WebSocket link. */
function webSocketRoute(ws: WebSocketTransport, platform: Platform): Route {
  const route = ws.route(platform.http);
  return (request, url, context) => route(request, url, context.remote);
}

/** What `--as-node` commands reach through the status port: the node's pub/sub and RPC. */
function meshApi(node: Node): MeshApi {
  return {
    realms: node.realms,
    publish: (topic, payload, options) => node.publish(topic, payload, options),
    subscribe: (pattern, _handler, options) => node.subscribe(pattern, undefined, options),
    call: (procedure, args, options) => node.call(procedure, args, options),
    whenAnnounced: () => node.pubsub.whenAnnounced(),
    flush: () => node.pubsub.flush(),
  };
}

/** Run `macula start`. */
export async function start(args: string[], platform: Platform): Promise<number> {
  const flags = parse<
    StartFlags & { help?: boolean; echo?: string[]; "auto-update"?: string; "auto-update-interval"?: string }
  >(args, {
    "data-dir": { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "health-host": { type: "string" },
    "health-port": { type: "string" },
    seed: { type: "string", multiple: true },
    realm: { type: "string", multiple: true },
    "log-format": { type: "string" },
    "log-level": { type: "string" },
    "cluster-strategy": { type: "string" },
    "cluster-secret": { type: "string" },
    "cluster-group": { type: "string" },
    "cluster-port": { type: "string" },
    "cluster-interface": { type: "string", multiple: true },
    "cluster-swim-port": { type: "string" },
    relay: { type: "boolean" },
    "relay-via": { type: "string", multiple: true },
    "relay-realms": { type: "string" },
    "relay-peer": { type: "string", multiple: true },
    "relay-limit": { type: "string", multiple: true },
    "no-punch": { type: "boolean" },
    "content-quota": { type: "string" },
    "content-upload-rate": { type: "string" },
    "content-uploads": { type: "string" },
    "no-content-provide": { type: "boolean" },
    "console-readonly": { type: "boolean" },
    "no-ws": { type: "boolean" },
    ...AUTH_FLAGS,
    ...LOCALITY_FLAGS,
    ...AUTO_UPDATE_FLAGS,
    echo: { type: "string", multiple: true },
  });
  if (flags.help) return platform.process.stdout(HELP.start + "\n"), 0;
  const cfg = resolveStartConfig(readEnv((n) => platform.process.env(n)), flags);
  const autoUpdate = autoUpdateConfig(flags);
  const log = new Logger({
    format: cfg.logFormat,
    level: cfg.logLevel,
    sink: (line) => platform.process.stderr(line + "\n"),
  });
  const pending = await guardPendingUpdate(platform, log, VERSION);
  if (pending.rolledBack) return EXIT_RESTART;
  // Listen for SIGINT/SIGTERM before anything starts, so a signal during
  // start-up still ends in a clean shutdown; a second signal exits at once.
  let restart = () => {};
  const shutdown = new Promise<string>((resolve) => {
    restart = () => resolve("self-update");
    let received = false;
    platform.process.onShutdownSignal((sig) => {
      if (received) {
        log.warn("second signal; exiting immediately");
        platform.process.exit(1);
      }
      received = true;
      resolve(sig);
    });
  });
  const { strategy, ...cluster } = cfg.cluster;
  const services = strategy === "off" ? [] : [
    new ClusterService({ ...cluster, strategy, host: cfg.host, seeds: cfg.seeds, platform }),
  ];
  const keyPair = await loadKeyPair({ dataDir: cfg.dataDir }, platform, log);
  const auth = await resolveNodeAuth(cfg, platform.fs, new NodeId(keyPair.publicKey).did, log);
  // The WebSocket link rides on the status server: the node dials and accepts through it, the server routes to it.
  const ws = cfg.ws ? new WebSocketTransport() : undefined;
  const announceWs = announcesWebSocket(cfg);
  if (announceWs && cfg.healthPort !== 0) ws?.advertise({ hostname: cfg.healthHost, port: cfg.healthPort });
  const node = await Node.start({
    keyPair,
    addTransports: ws ? [ws] : undefined,
    dataDir: cfg.dataDir,
    host: cfg.host,
    port: cfg.port,
    seeds: cfg.seeds,
    realms: cfg.realms,
    logger: log,
    platform,
    services,
    relay: {
      serve: cfg.relay.serve,
      via: cfg.relay.via,
      realms: cfg.relay.realms,
      peers: cfg.relay.peers,
      limits: cfg.relay.limits,
      // Browsers connected over the WebSocket link reach the mesh through this node.
      serveGateway: cfg.ws,
    },
    punch: cfg.punch ? undefined : false,
    content: cfg.content,
    auth: auth.options,
    locality: cfg.hierarchy?.locality,
    bridge: cfg.hierarchy?.bridge,
  });
  if (ws) {
    node.metrics.registry.gauge(
      "macula_ws_violations",
      "WebSocket connections closed for breaking the link's rules (text or oversize messages, flooding).",
      () => ws.violations,
    );
  }
  try {
    for (const name of flags.echo ?? []) {
      // A diagnostic procedure: answers with who served the call, who called and the arguments.
      node.advertise(name, (args, call) => ({ node: node.did, from: call.from.did, args }));
    }
  } catch (error) {
    await node.stop();
    throw new ConfigError(`invalid --echo: ${(error as Error).message}`);
  }
  let token;
  try {
    token = requiresToken(cfg.healthHost) ? await loadConsoleToken(platform.fs, cfg.dataDir) : undefined;
  } catch (error) {
    await node.stop();
    throw new MaculaError(
      "E_CONSOLE_TOKEN_FILE",
      `cannot keep the console token in ${cfg.dataDir}: ${describeError(error, platform)}`,
    );
  }
  const web = consoleRoutes(node, {
    readonly: cfg.consoleReadonly,
    rss: () => platform.process.memory().rss,
    log,
  });
  let server;
  try {
    server = await startStatusServer(node, platform.http, cfg.healthHost, cfg.healthPort, {
      routes: [
        ...(ws ? [webSocketRoute(ws, platform)] : []),
        web.route,
        browserRoutes(node, { gateway: ws !== undefined }),
        contentRoutes(node.content, { log }),
        registryRoutes(node.registry, {
          selfUpdate: (channel) => updateThisNode(node, platform, log, channel, restart),
        }),
        meshRoutes(meshApi(node)),
        authRoutes(node.auth),
        stateRoutes(node.state),
      ],
      token: token?.token,
      tokenHint: token?.path ? `Authorization: Bearer <the token in ${token.path}>` : undefined,
    });
    if (token) {
      // The one place the token is shown: once, at start, for the operator to open the console.
      const host = cfg.healthHost.includes(":") ? `[${cfg.healthHost}]` : cfg.healthHost;
      log.warn("the console and the JSON API need the token here; open the console at", {
        url: `http://${host}:${server.addr.port}/console?token=${token.token}`,
        tokenFile: token.path,
      });
    }
  } catch (error) {
    web.close();
    await node.stop();
    throw new MaculaError(
      "E_LISTEN",
      `cannot serve HTTP on ${cfg.healthHost}:${cfg.healthPort}: ${describeError(error, platform)} (use --health-port)`,
    );
  }
  if (announceWs) ws?.advertise(server.addr);
  log.info("status endpoint listening", { url: `http://${server.addr.hostname}:${server.addr.port}/status` });
  await pending.ready();
  const stopAutoUpdate = autoUpdate
    ? startAutoUpdate(autoUpdate, () => updateThisNode(node, platform, log, autoUpdate.channel, restart), log)
    : undefined;
  const signal = await shutdown;
  stopAutoUpdate?.();
  log.info("shutting down", { signal });
  web.close();
  await server.close().catch(() => {});
  await node.stop();
  return signal === "self-update" ? EXIT_RESTART : 0;
}
