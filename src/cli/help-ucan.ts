/**
 * Help texts of `macula ucan …`, `macula namespace …` and `macula app …`.
 *
 * @module
 */

const KEY = `  --data-dir DIR       whose key signs (env MACULA_DATA_DIR, default .macula; created if absent)`;

const TIMES = `  --exp WHEN           expiry: a duration (30m, 1h, 7d, 2w), a date (2026-12-31T00:00:00Z) or never
                       (default 30d; a link never outlives its proof)
  --nbf WHEN           not valid before: a duration from now or a date`;

/** Usage of the token, namespace and app commands. */
export const UCAN_HELP: Record<string, string> = {
  ucan: `Usage: macula ucan COMMAND [options]

Capability tokens (UCAN 1.0 delegations, signed with the data dir key):
  macula ucan issue --aud DID --cmd CMD   delegate a command (a root, or a link appended to --proof)
  macula ucan inspect TOKEN|FILE|-        show a chain link by link and whether it is valid
  macula ucan revoke CID                  revoke a delegation you issued (or one below yours)

Tokens are text (a base64url UCAN container holding a chain, root first): files, or stdout.
A node holds the chains in DATA-DIR/ucan/*.ucan and --ucan FILE. See docs/auth.md.
Run "macula ucan COMMAND --help" for the options.`,

  issue: `Usage: macula ucan issue --aud DID --cmd CMD [options]

Signs a delegation of CMD to DID with the data dir key and prints the whole chain (root first).
Without --proof, this key is the subject (a root: a realm authority's grant); with --proof, the
new link is appended to that chain, whose last audience must be this key.

Options:
  --aud DID            who receives the capability (a did:key, e.g. from "macula id")
  --cmd CMD            the command granted: /macula (everything), /macula/pubsub, /macula/rpc/call, …
  --pol JSON           the policy, e.g. '[["like", ".name", "io.acme.plant3.*"]]' (default: none)
  --sub DID            the subject (default: this key, or the proof's subject)
${TIMES}
  --proof FILE         the chain this key holds that grants CMD (FILE, or - for stdin)
  -o, --out FILE       write the token to FILE (mode 0600) instead of stdout
${KEY}
  -h, --help           show this help`,

  inspect: `Usage: macula ucan inspect TOKEN|FILE|- [options]

Shows a chain link by link — issuer → audience, subject, command, policy, time bounds, CIDs —
and whether it is valid: signatures, linkage (each audience is the next issuer), time (±60 s),
and revocations known to the data dir. Exit code 0 valid, 1 invalid.

Options:
  --json               print JSON
  --data-dir DIR       whose revocation store to consult (env MACULA_DATA_DIR, default .macula)
  -h, --help           show this help`,

  revoke: `Usage: macula ucan revoke CID [options]

Revokes the delegation CID (see "macula ucan inspect"): signs a revocation with the data dir key
and hands it to the node running on this machine, which stores it and gossips it through its
realms. With no node running, it is stored in DATA-DIR/auth/revocations and shared when that
node next starts. It takes effect if this key issued the delegation or a link above it.
Prints the revocation's CID.

Options:
${KEY}
  --health-port N      the local node's status port (env HEALTH_PORT, default 8080)
  --health-host ADDR   its status address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --offline            only store it in the data dir, even if a node runs
  -h, --help           show this help`,

  namespace: `Usage: macula namespace delegate NS --to DID [options]

Namespaces are dotted names of at least 3 segments (io.acme.plant3); the owner of io.acme
controls io.acme.* (whole segments: io.acme.user never matches io.acme.username).
Run "macula namespace delegate --help" for the options.`,

  "namespace delegate": `Usage: macula namespace delegate NS --to DID [options]

Gives DID the namespace NS: a delegation of /macula (or --cmd) whose policy confines every
operation's name (topic, procedure, …) to NS and below. Without --proof this key is the root
(a realm authority); with --proof (this key's own namespace chain) NS must lie inside it.
Prints the whole chain (root first).

Options:
  --to DID             the new owner (a did:key, e.g. from "macula id")
  --cmd CMD            the commands granted (default /macula: all; e.g. /macula/pubsub)
${TIMES}
  --proof FILE         this key's namespace chain (FILE, or - for stdin)
  -o, --out FILE       write the token to FILE (mode 0600) instead of stdout
${KEY}
  -h, --help           show this help`,

  app: `Usage: macula app verify MANIFEST.json [options]

Runs the admission checks of an app manifest — identity and namespace ownership (its proof),
capabilities, API entries — against the realm's authorities, and prints the verified manifest
or the step that failed. Exit code 0 admitted, 1 refused.

MANIFEST.json: { "identity": "io.acme.plant3.app", "capabilities": ["subscribe"],
  "api": { "topics": […], "procedures": […], "contentTypes": […] }, "did": "did:key:…",
  "proof": "<container text of the chain from the authority to the app's did>" }

Options:
  --realm NAME         the realm it is admitted to (env MACULA_REALM, default "default")
  --realm-authority REALM=DID, --realm-file FILE
                       the realm's authorities, as for "macula start" (default: the data dir's key)
  --data-dir DIR       the node's data dir (env MACULA_DATA_DIR, default .macula)
  --json               print JSON
  -h, --help           show this help`,
};
