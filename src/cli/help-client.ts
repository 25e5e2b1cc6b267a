/**
 * Help texts of the commands that join the mesh for one job (`pub`, `sub`,
 * `call`, `dht`).
 *
 * @module
 */

const JOIN = `Joining the mesh:
  --seed ADDR          a node to join through (repeatable; env MACULA_SEEDS). Default: the node
                       running on this machine, found on its status port
  --health-port N      that local node's status port (env HEALTH_PORT, default 8080)
  --health-host ADDR   its status address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --realm NAME         the realm to work in (env MACULA_REALM, default "default")
  --host ADDR          address this short-lived node listens on (default 0.0.0.0)
  --port N             its port (default 0: any free port)
  --timeout MS         deadline for joining and for each call (default 10000)
  --log-level LEVEL    debug, info, warn (default) or error
  -h, --help           show this help`;

const AS_NODE = `  --as-node            act as the node running on this machine (its identity and tokens) through
                       its status port, instead of a short-lived node of its own: what a closed
                       realm needs (a fresh identity holds no capability)`;

/** Usage of each client command. */
export const CLIENT_HELP: Record<string, string> = {
  pub: `Usage: macula pub TOPIC JSON [options]

Publishes JSON on TOPIC (dot-separated, e.g. sensors.kitchen.temp) to every subscriber in the
realm, and prints {"topic", "realm", "subscribers"}.

Options:
${AS_NODE}

${JOIN}`,

  sub: `Usage: macula sub TOPIC [options]

Subscribes to TOPIC ("*" matches one segment, a trailing ">" the rest: sensors.*.temp,
sensors.>) and prints one JSON line per message: {"topic", "payload", "publisher", "seq"},
until SIGINT/SIGTERM.

Options:
  --count N            exit after N messages
${AS_NODE}

${JOIN}`,

  call: `Usage: macula call PROCEDURE JSON [options]

Calls PROCEDURE with the JSON arguments on a provider found through the DHT and prints the
result as JSON. Fails over to another provider if one dies or times out.

Options:
  --count N            call N times; print one JSON line per call {"i", "ms", "result"} or {"i", "error"}
  --interval MS        pause between calls
${AS_NODE}

${JOIN}`,

  dht: `Usage: macula dht lookup KEY [options]

Looks KEY up in the realm's DHT:
  did:key:z6Mk…        the node's signed record (addresses, realms)
  rpc:PROCEDURE        the providers of a procedure
  sub:ROOT             the subscribers announced under a topic root (first segment, or *)
  64 hex digits        the closest nodes to that key

${JOIN}`,
};
