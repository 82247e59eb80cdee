#!/usr/bin/env bash
# The bundled VM's tools on a Debian host (docs/vm.md): QEMU to boot it, and what `podnet vm build` packs
# the image with (cpio, zstd, kmod's depmod, fakeroot). Only what is missing; nothing of the image comes from here.
set -euo pipefail
pkgs=(qemu-system-x86 cpio zstd kmod fakeroot)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "podnet: the VM needs these Debian packages: ${missing[*]}" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "podnet set-up: installing ${missing[*]} (the bundled VM's tools)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
