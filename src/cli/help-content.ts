/**
 * Help texts of `macula content …`.
 *
 * @module
 */

const NODE = `Talking to the node:
  --health-port N      the node's status port (env HEALTH_PORT, default 8080)
  --health-host ADDR   its status address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --json               print JSON
  -h, --help           show this help`;

/** Usage of `macula content` and each of its commands. */
export const CONTENT_HELP: Record<string, string> = {
  content: `Usage: macula content COMMAND [options]

Content-addressed files, verified chunk by chunk, through the node running on this machine
(its status port):
  macula content publish FILE|-     store FILE (or stdin) in the node and print its content id
  macula content fetch ID [-o FILE] fetch content from the mesh (verified) to FILE or stdout
  macula content ls                 list the content stored in the node
  macula content pin ID             keep ID: never evicted
  macula content unpin ID           let ID be evicted when the store needs room
  macula content rm ID              remove ID from the store

macula may read and write only its data directories (.macula, /var/lib/macula); use stdin
and stdout for other files: macula content publish - < FILE, macula content fetch ID > FILE.
See docs/content.md. Run "macula content COMMAND --help" for the options.`,

  publish: `Usage: macula content publish FILE|- [options]

Stores FILE (or stdin with -) in the node, which then provides it to the mesh, and prints its
content id (b…: the hash of the content's Merkle tree, and its size).

Options:
  --pin                never evict it
  --name NAME          also serve it under NAME, a dotted name inside a namespace
                       (io.acme.plant3.firmware): in a closed realm, a capability
                       confined to the namespace then covers fetching it
${NODE}`,

  fetch: `Usage: macula content fetch ID [-o FILE] [options]

Fetches content ID through the node (from its store, or from the providers in the mesh in
parallel, every 16 KiB verified) and writes it to FILE (atomically: a temp file renamed at the
end) or to stdout. Progress goes to stderr: a bar on a terminal, a line every 2 s otherwise.

Options:
  -o, --output FILE    write to FILE instead of stdout
  -q, --quiet          no progress
${NODE}`,

  ls: `Usage: macula content ls [options]

Lists the content in the node's store: id, size, complete or partial, pinned.

${NODE}`,

  pin: `Usage: macula content pin ID [options]

Pins stored content: it is never evicted to make room.

${NODE}`,

  unpin: `Usage: macula content unpin ID [options]

Unpins content: it may be evicted (least recently used first) when the store needs room.

${NODE}`,

  rm: `Usage: macula content rm ID [options]

Removes content from the node's store (pinned or not).

${NODE}`,
};
