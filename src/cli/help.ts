/**
 * Help texts of the `macula` command.
 *
 * @module
 */

/** Usage of each command. */
export const HELP: Record<string, string> = {
  main: `macula — a secure, self-organizing mesh node for small boards

Usage:
  macula start [options]     run a node until SIGINT/SIGTERM
  macula id [options]        print this node's did:key (creates the identity if absent)
  macula status [options]    show a running node's status
  macula peers [options]     list a running node's connected peers
  macula pub TOPIC JSON      publish a message to every subscriber in the realm
  macula sub TOPIC           print the messages published on TOPIC (wildcards * and >)
  macula call PROC JSON      call an RPC procedure on the best provider in the realm
  macula dht lookup KEY      find the providers of a key in the realm's DHT
  macula content …           publish, fetch, list, pin and remove content (verified files)
  macula registry …          publish, list and install signed releases of artifacts
  macula self-update         replace this node's binary with the newest signed release (restarts)
  macula ucan …              issue, inspect and revoke capability tokens (UCAN)
  macula namespace delegate  give a did:key a namespace (io.acme.plant3) by a signed delegation
  macula app verify FILE     check an app manifest as admission would
  macula state …             get, set, delete and watch replicated maps (through the local node)
  macula version             print version, target and runtime

Run "macula <command> --help" for the options of a command.`,

  start: `Usage: macula start [options]

Runs a node until SIGINT or SIGTERM, then shuts down cleanly.

Options:
  --data-dir DIR         where the identity lives (env MACULA_DATA_DIR, default .macula)
  --host ADDR            listen address for QUIC and TCP (env MACULA_HOST, default 0.0.0.0)
  --port N               QUIC (UDP) and TCP port (env MACULA_QUIC_PORT, default 9443; 0 = any free port)
  --health-host ADDR     HTTP status address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --health-port N        HTTP status port (env HEALTH_PORT, default 8080; 0 = any free port)
  --seed ADDR            a node to keep connected, as it reports itself:
                         quic://HOST:PORT/did:key:z6Mk…, or a relayed address
                         quic://RELAY:PORT/did:key:…RELAY/circuit/did:key:…NODE
                         (repeatable; env MACULA_SEEDS, comma-separated)
  --realm NAME           realm to run in (repeatable; env MACULA_REALM, default "default")
  --log-format FORMAT    text or json (env MACULA_LOG_FORMAT, default text)
  --log-level LEVEL      debug, info, warn or error (env MACULA_LOG_LEVEL, default info)
  --relay                serve as a relay for nodes that cannot be dialed (env MACULA_RELAY=1)
  --relay-via ADDR       a relay to reserve at, quic://HOST:PORT/did:key:… (repeatable; env MACULA_RELAYS,
                         comma-separated; relays of the realm met in the mesh are used too)
  --relay-realms LIST|*  who may reserve at this relay: realms (comma-separated) or * for anyone
                         (env MACULA_RELAY_REALMS, default this node's realms)
  --relay-peer ADDR      a relay to peer with, so circuits take one hop between relays
                         (repeatable; env MACULA_RELAY_PEERS, comma-separated)
  --relay-limit NAME=N   a limit of this relay (repeatable; env MACULA_RELAY_LIMITS, comma-separated):
                         maxReservations (128), maxCircuitsPerPeer (16), maxCircuits (512),
                         circuitRate and totalRate in bytes/s (1048576, 8388608; 0 = unlimited),
                         reservationTtl in ms (900000)
  --no-punch             never upgrade relayed connections to direct ones by hole punching
                         (env MACULA_PUNCH=0; default: punch where the NATs allow it)
  --content-quota SIZE   content store quota, e.g. 512M or 4G (env MACULA_CONTENT_QUOTA, default 4G)
  --content-upload-rate RATE
                         cap on serving content, bytes/s with K/M/G suffixes, e.g. 2M
                         (env MACULA_CONTENT_UPLOAD_RATE, default 0 = unlimited)
  --content-uploads N    concurrent content uploads (env MACULA_CONTENT_UPLOADS, default 8)
  --no-content-provide   do not provide content this node fetched (env MACULA_CONTENT_PROVIDE=0)
  --console-readonly     the web console (http://HEALTH-HOST:PORT/console) shows but cannot act: no
                         ping, publish or call (env MACULA_CONSOLE_READONLY=1). Off loopback the console
                         and the JSON API need the token in DATA-DIR/console-token
  --no-ws                do not serve the WebSocket link (browsers and ws:// peers) on the status
                         server's /macula/ws (env MACULA_WS=0; default: served)
  --auto-update CHANNEL  check the registry channel io.macula.node.CHANNEL every interval and
                         self-update (Node single binary; exits 75 for systemd to restart it; see
                         docs/registry.md)
  --auto-update-interval SECONDS
                         seconds between those checks (default 3600; the first one after one interval)
  --echo NAME            also provide the RPC procedure NAME, answering {node, from, args}: a
                         diagnostic for checking RPC across the mesh (repeatable)

Authorization (see docs/auth.md):
  --realm-policy P       open or closed, for every realm of this node; or REALM=P for one realm
                         (repeatable; env MACULA_REALM_POLICY, comma-separated; default open).
                         A closed realm refuses every message, call, subscription and content
                         request whose origin holds no capability (UCAN) for it
  --realm-authority REALM=DID
                         a did:key trusted as the root of the realm's capabilities (repeatable;
                         env MACULA_REALM_AUTHORITY, comma-separated); a closed realm needs one
  --realm-file FILE      JSON { "realms": { "io.acme": { "policy": "closed", "authorities": [DID] } } }
                         (env MACULA_REALM_FILE; the environment and flags override it per realm)
  --ucan FILE            a capability chain this node holds (container text, as "macula ucan issue"
                         writes it; repeatable; env MACULA_UCAN, comma-separated), besides the
                         DATA-DIR/ucan/*.ucan files
  --clock-skew SECONDS   tolerance of token time bounds (env MACULA_CLOCK_SKEW, default 60)

Hierarchy (lookups answered as locally as possible; see docs/hierarchy.md):
  --locality PATH        this node's place, outermost first, e.g. eu/be/brussels (1-8 levels of
                         [a-z0-9_.-]; env MACULA_LOCALITY; default none = flat DHT only)
  --bridge N             also join the N levels above and carry lookups between them (env
                         MACULA_BRIDGE, default 0)

Clustering (nodes on the same LAN find each other with no configuration):
  --cluster-strategy S   gossip (multicast announcements), mdns (DNS-SD _macula._udp.local),
                         static (seeds only) or off (env CLUSTER_STRATEGY, default gossip)
  --cluster-secret S     shared secret; only nodes holding it are admitted (env CLUSTER_SECRET,
                         preferred: flags show up in ps; at least 8 characters; default none = open)
  --cluster-group ADDR   multicast group of announcements (env CLUSTER_GROUP, default 230.1.1.251)
  --cluster-port N       UDP port of announcements (env CLUSTER_PORT, default 45892)
  --cluster-interface I  interface name or IPv4 address to cluster on (repeatable; env CLUSTER_INTERFACES,
                         comma-separated; default every non-loopback IPv4 interface)
  --cluster-swim-port N  UDP port of membership probes (env CLUSTER_SWIM_PORT, default 0 = any free port)
  -h, --help             show this help

Precedence: defaults < realm file < environment < flags.`,

  id: `Usage: macula id [options]

Prints this node's did:key, creating the identity if there is none.

Options:
  --data-dir DIR   where the identity lives (env MACULA_DATA_DIR, default .macula)
  -h, --help       show this help`,

  status: `Usage: macula status [options]

Shows the status of the node running on this machine (GET /status).

Options:
  --health-host ADDR   the node's HTTP address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --health-port N      the node's HTTP port (env HEALTH_PORT, default 8080)
  --json               print the raw JSON
  -h, --help           show this help`,

  peers: `Usage: macula peers [options]

Lists the peers connected to the node running on this machine (GET /peers).

Options:
  --health-host ADDR   the node's HTTP address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --health-port N      the node's HTTP port (env HEALTH_PORT, default 8080)
  --json               print the raw JSON
  -h, --help           show this help`,

  version: `Usage: macula version

Prints the version, target and runtime (same as macula --version).`,
};
