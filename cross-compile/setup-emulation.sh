#!/usr/bin/env bash
# Sets up what the single-binary builds and tests need to run aarch64 and armv7 programs on an x86_64 host:
#   - qemu-user-static + binfmt-support (user-mode emulation; the tests call qemu-<arch>-static explicitly,
#     so a registered binfmt handler is not required, e.g. inside containers),
#   - binutils-multiarch (a `strip` that knows ARM, to strip the Node binaries),
#   - sysroots: Debian's arm64/armhf C and C++ runtime libraries, downloaded with `apt-get download` and
#     unpacked with `dpkg -x` into <dir>/arm64 and <dir>/armhf (never installed into the system).
# Usage: cross-compile/setup-emulation.sh [DIR]     (default: $MACULA_SYSROOTS or /opt/macula-sysroots)
# Run as root on Debian/Ubuntu. Without root or apt it prints why and exits 0: the tests then print SKIPPED.
set -uo pipefail

dest=${1:-${MACULA_SYSROOTS:-/opt/macula-sysroots}}
libs=(libc6 libstdc++6 libgcc-s1 libatomic1)
apt_opts=(-o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root -qq)

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  echo "emulation: not set up (needs root, apt-get and dpkg); emulated single-binary tests will be skipped"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive

need_update=0
for arch in arm64 armhf; do
  dpkg --print-foreign-architectures | grep -qx "$arch" || { dpkg --add-architecture "$arch"; need_update=1; }
done
missing=()
for p in qemu-user-static binfmt-support binutils-multiarch; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sysroots_done=1
for arch in arm64 armhf; do [[ -f "$dest/$arch/.complete" ]] || sysroots_done=0; done

if [[ ${#missing[@]} -gt 0 || $sysroots_done -eq 0 || $need_update -eq 1 ]]; then
  # A foreign-architecture index can be mid-sync on a mirror; what was fetched is enough for these packages.
  apt-get "${apt_opts[@]}" update || echo "emulation: apt-get update reported errors; continuing"
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "emulation: could not install ${missing[*]}"; exit 1; }
fi

for arch in arm64 armhf; do
  [[ -f "$dest/$arch/.complete" ]] && continue
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get "${apt_opts[@]}" download "${libs[@]/%/:$arch}") ||
    { echo "emulation: could not download the $arch libraries"; rm -rf "$tmp"; exit 1; }
  rm -rf "${dest:?}/$arch" && mkdir -p "$dest/$arch"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest/$arch"; done
  rm -rf "$tmp"
  touch "$dest/$arch/.complete"
done
echo "emulation: $(qemu-aarch64-static --version | head -n 1); sysroots in $dest (arm64, armhf)"
