// What goes into the bundled VM's guest: Debian packages, kernel modules, and the parts of the app.

/** The guest's architectures, by the names QEMU and Debian give them. */
export const ARCHES = {
  x86_64: { debian: 'amd64', kernelPackage: 'linux-image-amd64', qemu: 'qemu-system-x86_64', gnu: 'x86_64-linux-gnu' },
  arm64: { debian: 'arm64', kernelPackage: 'linux-image-arm64', qemu: 'qemu-system-aarch64', gnu: 'aarch64-linux-gnu' },
} as const;
export type Arch = keyof typeof ARCHES;

/** The host's own architecture as a guest architecture (the default build and boot). */
export function hostArch(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'x86_64';
}

/**
 * Debian packages unpacked into the guest (their dependencies come along): what a lab world runs
 * (the same list scripts/ensure.mjs installs on a host, less the build tools), Node.js for the engine,
 * kmod to load the modules, bash for the terminals, dash as /bin/sh.
 */
export const GUEST_PACKAGES = [
  'nodejs',
  'iproute2',
  'busybox-static',
  'nftables',
  'iptables',
  'util-linux',
  'tcpdump',
  'fakeroot',
  'dnsmasq-base',
  'kmod',
  'bash',
  // /bin/sh: busybox's sh runs its own applets before PATH (Debian builds it standalone), so `ip` would not be iproute2's
  'dash',
  'netbase',
  'ca-certificates',
];

/** Never wanted in the guest even when a dependency names them: documentation and translations. */
export const DROPPED_PATHS = [
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'usr/share/bash-completion',
  'usr/share/zsh',
  'usr/share/bug',
  'usr/share/common-licenses',
  'var/cache/debconf',
  // glibc's iconv modules (Node.js converts with ICU) and systemd, which a dependency drags in (no systemd here)
  'usr/lib/GNU/gconv',
  'usr/lib/GNU/systemd',
  'usr/lib/systemd',
  'usr/bin/systemctl',
  'usr/bin/journalctl',
];

/**
 * Kernel modules loaded at boot: the links, bridges, overlays, firewalls and queueing disciplines the labs
 * and the tests create (veth, bridge, vxlan, vlan, ipvlan, macvlan, dummy, ifb; nf_tables and iptables-nft;
 * htb/tbf for the bandwidth plugin), the paravirtual devices QEMU gives the guest, and overlayfs for containerd.
 */
export const BOOT_MODULES = [
  'virtio_net',
  'virtio_rng',
  // the host's progress folder (9p over virtio)
  '9pnet_virtio',
  '9p',
  'veth',
  'bridge',
  'br_netfilter',
  'vxlan',
  '8021q',
  'ipvlan',
  'macvlan',
  'dummy',
  'ifb',
  'tun',
  'overlay',
  'nf_tables',
  'nf_nat',
  'nf_conntrack',
  'nft_chain_nat',
  'nft_compat',
  'nft_ct',
  'nft_masq',
  'nft_nat',
  'nft_fib_inet',
  'nft_reject_inet',
  'nfnetlink_queue',
  'xt_MASQUERADE',
  'xt_conntrack',
  'xt_comment',
  'xt_mark',
  'xt_addrtype',
  'xt_multiport',
  'xt_nat',
  'xt_statistic',
  'xt_tcpudp',
  'sch_htb',
  'sch_tbf',
  'sch_ingress',
  'sch_netem',
  'cls_u32',
  'cls_matchall',
  'act_mirred',
];

/**
 * Module folders kept whole (below lib/modules/VERSION/kernel), so what a lab loads later on demand
 * (an nft expression, an xt match, a qdisc) is there for the kernel's own request_module.
 */
export const MODULE_TREES = ['net/netfilter', 'net/ipv4/netfilter', 'net/ipv6/netfilter', 'net/bridge', 'net/sched'];

/** Packages of the app's node_modules the engine never loads (the renderer's bundle has them built in). */
export const RENDERER_ONLY = ['monaco-editor', 'react', 'react-dom', 'scheduler', '@xterm/'];

/** The pinned bundles the guest carries (scripts/pinned.mjs): the plugins, the control plane, containerd. */
export const PINNED_BUNDLES = ['cni-plugins', 'control-plane', 'containerd', 'cri-api'];
