/**
 * Help texts of `macula registry …` and `macula self-update`.
 *
 * @module
 */

const NODE = `Talking to the node:
  --health-port N      the node's status port (env HEALTH_PORT, default 8080)
  --health-host ADDR   its status address (env MACULA_HEALTH_HOST, default 127.0.0.1)
  --json               print JSON
  -h, --help           show this help`;

/** Usage of `macula registry` and each of its commands. */
export const REGISTRY_HELP: Record<string, string> = {
  registry: `Usage: macula registry COMMAND [options]

Signed releases of artifacts (apps, agents, Macula itself), through the node running on this
machine (its status port):
  macula registry publish FILE|- --name NAME --version V   store FILE as content and sign a release
  macula registry list NAME                    the verified releases of NAME, newest first
  macula registry info NAME[@VERSION]          one release (default: the newest)
  macula registry install NAME[@VERSION]       fetch, verify and install it atomically

A release is signed by the publishing node; in a realm with authorities its UCAN chain must
cover /macula/registry/publish on NAME. Tampered or unauthorized releases are refused.
See docs/registry.md. Run "macula registry COMMAND --help" for the options.`,

  publish: `Usage: macula registry publish FILE|- --name NAME --version VERSION [options]

Store FILE (or stdin) in the node as pinned content and publish a release record signed by
the node: name, semver version, content id, size, arch, notes, and the node's chain for
/macula/registry/publish on NAME. Prints the release.
  --name NAME          artifact name, a namespace (io.acme.sensor-agent)
  --version V          semantic version (1.4.0)
  --arch A             target architecture (x86_64, aarch64, armv7; default any)
  --notes TEXT         release notes
${NODE}`,

  list: `Usage: macula registry list NAME [options]

The releases of NAME found in the mesh that pass the checks, newest first.
${NODE}`,

  info: `Usage: macula registry info NAME[@VERSION] [options]

One release of NAME: VERSION, or the newest.
  --arch A             only releases for A (or any)
${NODE}`,

  install: `Usage: macula registry install NAME[@VERSION] [options]

Fetch the release's artifact from the mesh, check the signature, the chain and the content
id, and install it atomically (temp file, fsync, rename) as DIR/NAME@VERSION (mode 0755).
The node writes the file: DIR must be writable by it.
  --dir DIR            install directory (default <data dir>/installed)
  --file NAME          file name in DIR (default NAME@VERSION)
  --arch A             only releases for A (or any)
${NODE}`,

  "self-update": `Usage: macula self-update [--channel C] [options]

Ask the node running on this machine to replace its binary with the newest signed release of
io.macula.node.C (default channel: stable) for its arch, when newer than its version. The
release is verified and installed next to the binary, must pass a health check (it runs and
names its version), the old binary is kept as BINARY.prev and the new one renamed into place;
if the installed binary fails the check, the old one is put back. The node then exits with
code 75 so that systemd (Restart=on-failure) starts the new binary. Node single binary only.
  --channel C          release channel (default stable)
${NODE}`,
};
