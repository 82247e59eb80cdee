#!/usr/bin/env bash
# The workshop's container tools on a Debian host (docs/workshop.md): podman with runc (crun refuses a
# machine whose cgroups are a v1/v2 hybrid), slirp4netns for user-mode networking, uidmap; and the
# subordinate IDs `podman run --userns=auto` takes each container's user namespace from. Only what is missing.
set -euo pipefail
pkgs=(podman runc slirp4netns uidmap fuse-overlayfs tar)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# --userns=auto takes ranges from the "containers" entry (podman's documented default), far above any real user's IDs
ids_missing=0
for f in /etc/subuid /etc/subgid; do grep -q '^containers:' "$f" 2>/dev/null || ids_missing=1; done
[ ${#missing[@]} -eq 0 ] && [ "$ids_missing" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "podnet: the workshop's container tests need root (rootful podman) and these Debian packages: ${missing[*]:-none}" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]:-}; and a 'containers:2147483647:2147483648' line in /etc/subuid and /etc/subgid" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "podnet set-up: installing ${missing[*]} (the workshop's container tools)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
fi
for f in /etc/subuid /etc/subgid; do
  grep -q '^containers:' "$f" 2>/dev/null || echo 'containers:2147483647:2147483648' >>"$f"
done
