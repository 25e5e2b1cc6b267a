/**
 * Help text of `macula state`.
 *
 * @module
 */

/** Usage of `macula state`. */
export const STATE_HELP: Record<string, string> = {
  state: `Usage: macula state get NAME [KEY] [options]
       macula state set NAME KEY JSON [options]
       macula state delete NAME KEY [options]
       macula state watch NAME [KEY] [options]

Reads and writes the replicated map NAME (see docs/state.md) through the node running on
this machine (its status port, loopback only), with its identity and capabilities.
  get      prints {"key", "found", "value"}; without KEY, every entry as {"entries": {…}}
  set      writes the JSON value at KEY (in a closed realm the node needs /macula/state/write)
  delete   deletes KEY; prints {"deleted": true|false}
  watch    prints one JSON line per change {"key", "value", "deleted", "local", "writer"}
           (of KEY only, if given) until SIGINT/SIGTERM or --count changes

Options:
  --realm NAME         the realm of the map (default: the node's primary realm)
  --count N            watch: exit after N changes
  --health-port N      the local node's status port (env HEALTH_PORT, default 8080)
  --health-host ADDR   its status address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  -h, --help           show this help`,
};
