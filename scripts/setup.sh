#!/usr/bin/env bash
# Set-up for Podnet Lab on Debian/Ubuntu: the system packages a lab world needs, then the npm packages.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the end-to-end tests drive the UI in it (playwright-core downloads no browser)
# tcpdump, fakeroot: lab 10 captures VXLAN on the underlay (fakeroot lets tcpdump's user switch pass in a user namespace)
# dnsmasq-base: lab 13's cluster DNS server (a stand-in for CoreDNS, run in a pod)
packages=(iproute2 containernetworking-plugins busybox-static nftables iptables util-linux build-essential tcpdump fakeroot dnsmasq-base chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "podnet setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Electron's binary is fetched by the desktop build only where a network allows it.
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"
npm ci --no-audit --no-fund
npm run -s build
node bin/podnet.mjs doctor
