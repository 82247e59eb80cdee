// Writes resources/cni-schemas/*.json (run: node scripts/gen-cni-schemas.mjs resources/cni-schemas). The JSON files are what the app reads.
import { writeFileSync, mkdirSync } from 'node:fs';
const out = process.argv[2];
mkdirSync(out, { recursive: true });
const BASE = 'https://podnet.invalid/cni-schemas/';
const id = (n) => BASE + n + '.json';
const ref = (n) => ({ $ref: id(n) });
const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
const str = (description, extra = {}) => ({ type: 'string', description, ...extra });
const bool = (description, def) => ({ type: 'boolean', description, ...(def !== undefined ? { default: def } : {}) });
const int = (description, extra = {}) => ({ type: 'integer', description, ...extra });
const CIDR = '^[0-9a-fA-F.:]+/[0-9]{1,3}$';
const IP = '^[0-9a-fA-F.:]+$';
const cidr = (description) =>
  str(description, {
    pattern: CIDR,
    patternErrorMessage: 'Must be an address block in CIDR notation, such as "10.244.1.0/24".',
  });
const ip = (description) =>
  str(description, { pattern: IP, patternErrorMessage: 'Must be an IP address, such as "10.244.1.1".' });
const mtu = int('Explicitly set MTU to the specified value. Defaults to the value chosen by the kernel.', {
  minimum: 68,
  maximum: 65535,
});
const MAC = '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$';
const masqBackend = {
  type: 'string',
  enum: ['iptables', 'nftables'],
  description:
    'The backend of the IP masquerade rules: "iptables" or "nftables". When omitted, iptables unless only nftables is available.',
};
const linkInContainer = bool(
  "Look up the master interface in the container's network namespace instead of the host's.",
  false,
);
const macRuntime = {
  type: 'object',
  description: 'Filled by the runtime from the capabilities this plugin declares (capability "mac").',
  properties: { mac: str("The MAC address to give the container's interface.", { pattern: MAC }) },
};
const ipamProp = {
  ...ref('ipam'),
  description:
    "IPAM configuration: the IPAM plugin (host-local, static, dhcp) this plugin calls to allocate the pod's addresses.",
};

function schema(name, title, description, props, extra = {}) {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: id(name),
    title,
    description,
    type: 'object',
    properties: props,
    ...extra,
  };
}

const route = {
  type: 'object',
  required: ['dst'],
  properties: {
    dst: cidr('Destination subnet of the route, in CIDR notation ("0.0.0.0/0" is the default route).'),
    gw: ip('IP of the gateway. If omitted, a default gateway is assumed (as determined by the CNI plugin).'),
  },
};
const routes = { type: 'array', description: "Routes to add to the container's network namespace.", items: route };
const dns = {
  type: 'object',
  description: 'DNS configuration for the container (passed on in the result; the runtime writes resolv.conf).',
  properties: {
    nameservers: {
      type: 'array',
      items: { type: 'string' },
      description: 'A priority-ordered list of DNS nameservers that this network is aware of.',
    },
    domain: str('The local domain used for short hostname lookups.'),
    search: {
      type: 'array',
      items: { type: 'string' },
      description: 'Priority-ordered search domains for short hostname lookups.',
    },
    options: { type: 'array', items: { type: 'string' }, description: 'Options that can be passed to the resolver.' },
  },
};

const PLUGINS = {
  bridge: schema(
    'bridge',
    'bridge plugin',
    'With the bridge plugin, all containers (on the same host) are plugged into a bridge (virtual switch) that resides in the host network namespace. The containers receive one end of a veth pair with the other end connected to the bridge.',
    {
      bridge: str('Name of the bridge to use/create.', { default: 'cni0', maxLength: 15 }),
      isGateway: bool(
        'Assign an IP address to the bridge (the gateway of the subnet), so the bridge routes for the pods.',
        false,
      ),
      isDefaultGateway: bool('Sets isGateway to true and makes the assigned IP the default route.', false),
      forceAddress: bool('Indicates if a new IP address should be set if the previous value has been changed.', false),
      ipMasq: bool(
        'Set up IP Masquerade on the host for traffic originating from this network and destined outside of it.',
        false,
      ),
      ipMasqBackend: masqBackend,
      mtu,
      hairpinMode: bool(
        'Set hairpin mode for interfaces on the bridge: a pod can reach itself through a service.',
        false,
      ),
      promiscMode: bool('Set promiscuous mode on the bridge.', false),
      vlan: int('Assign VLAN tag. Defaults to none.', { minimum: 0, maximum: 4094 }),
      vlanTrunk: {
        type: 'array',
        description:
          'VLAN trunk: the VLAN IDs the container\'s port carries tagged, each an "id" or a "minID"–"maxID" range.',
        items: {
          type: 'object',
          properties: {
            id: int('One VLAN ID.', { minimum: 1, maximum: 4094 }),
            minID: int('The first VLAN ID of a range.', { minimum: 1, maximum: 4094 }),
            maxID: int('The last VLAN ID of a range.', { minimum: 1, maximum: 4094 }),
          },
        },
      },
      preserveDefaultVlan: bool(
        'With vlan or vlanTrunk: keep the default VLAN (1) on the veth as well; by default it is removed.',
        false,
      ),
      macspoofchk: bool(
        'Enables mac spoof check, limiting the traffic originating from the container to the mac address of the interface.',
        false,
      ),
      enabledad: bool('Enables duplicate address detection for the container side veth.', false),
      disableContainerInterface: bool(
        "Leave the container's side of the veth down and without addresses (IPAM cannot be used with it).",
        false,
      ),
      portIsolation: bool(
        "Set the host veth's bridge port isolated: isolated ports cannot talk to each other, only to non-isolated ports.",
        false,
      ),
      args: {
        type: 'object',
        description: "Arguments from the runtime: args.cni.mac sets the container interface's MAC.",
        properties: {
          cni: {
            type: 'object',
            properties: { mac: str("The MAC address of the container's interface.", { pattern: MAC }) },
          },
        },
      },
      runtimeConfig: macRuntime,
      ipam: {
        ...ipamProp,
        description: 'IPAM configuration to be used for this network. For an L2-only network, use an empty object {}.',
      },
    },
  ),
  ptp: schema(
    'ptp',
    'ptp plugin',
    'The ptp plugin creates a point-to-point link between a container and the host by using a veth device. One end of the veth pair is placed inside the container and the other end resides on the host. The host-side veth is never assigned an IPv4 address; it gets routes to the container.',
    {
      ipMasq: bool(
        'Set up IP Masquerade on the host for traffic originating from the ip of this network and destined outside of this network.',
        false,
      ),
      ipMasqBackend: masqBackend,
      mtu,
      ipam: ipamProp,
      dns,
    },
    { required: ['ipam'] },
  ),
  macvlan: schema(
    'macvlan',
    'macvlan plugin',
    'macvlan functions like a switch that is already connected to the host interface. A host interface gets "enslaved" with the virtual interfaces sharing the physical device but having distinct MAC addresses.',
    {
      master: str('Name of the host interface to enslave. Defaults to the default route interface.'),
      mode: {
        type: 'string',
        enum: ['bridge', 'private', 'vepa', 'passthru'],
        default: 'bridge',
        description: 'One of "bridge", "private", "vepa", "passthru". Defaults to "bridge".',
      },
      mtu: {
        ...mtu,
        description: 'Explicitly set MTU to the specified value. The default is the MTU of the master device.',
      },
      mac: str("The MAC address of the container's interface (also from runtimeConfig.mac or CNI_ARGS MAC).", {
        pattern: MAC,
      }),
      linkInContainer,
      bcqueuelen: int("The master's broadcast queue length for macvlan (0 leaves the kernel's).", {
        minimum: 0,
      }),
      runtimeConfig: macRuntime,
      ipam: {
        ...ipamProp,
        description:
          'IPAM configuration to be used for this network. For an interface only with L2 (no IP), use an empty object {}.',
      },
    },
  ),
  ipvlan: schema(
    'ipvlan',
    'ipvlan plugin',
    'ipvlan is a new addition to the Linux kernel. It virtualizes the host interface: the virtual interfaces share the MAC address of the master but have distinct IP addresses.',
    {
      master: str('Name of the host interface to enslave. Defaults to the default route interface.'),
      mode: {
        type: 'string',
        enum: ['l2', 'l3', 'l3s'],
        default: 'l2',
        description: 'One of "l2", "l3", "l3s". Defaults to "l2".',
      },
      mtu: {
        ...mtu,
        description: 'Explicitly set MTU to the specified value. The default is the MTU of the master device.',
      },
      ipam: {
        ...ipamProp,
        description:
          "IPAM configuration to be used for this network. When ipvlan is not the first plugin of a list, ipam may be left out and the previous result's addresses are used.",
      },
      linkInContainer,
    },
  ),
  vlan: schema(
    'vlan',
    'vlan plugin',
    'The vlan plugin creates a vlan subinterface off an enslaved interface in the host network namespace and places the vlan subinterface into the container namespace. Each container must use a unique vlanId and master pair.',
    {
      master: str('Name of the host interface to enslave.'),
      vlanId: int('The VLAN ID (a number from 0 to 4094).', { minimum: 0, maximum: 4094 }),
      mtu: {
        ...mtu,
        description:
          "Explicitly set MTU to the specified value. Defaults to the value chosen by the kernel (the master's MTU).",
      },
      linkInContainer,
      ipam: ipamProp,
      dns,
    },
    { required: ['master', 'vlanId', 'ipam'] },
  ),
  'host-device': schema(
    'host-device',
    'host-device plugin',
    'Move an already-existing device into a container. The device is specified with exactly one of: device, hwaddr, kernelpath, pciBusID. On DEL the device is moved back to the host.',
    {
      device: str('The device name, e.g. eth1 or ens2f0.'),
      hwaddr: str('A MAC address of the device.', { pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' }),
      kernelpath: str('The kernel device kobj, e.g. /sys/devices/pci0000:00/0000:00:1f.6.'),
      pciBusID: str('A PCI address of a network device, e.g. 0000:00:1f.6.'),
      runtimeConfig: {
        type: 'object',
        description: 'Filled by the runtime (capability "deviceID", e.g. from a device plugin).',
        properties: { deviceID: str('A PCI address or auxiliary device name chosen by the runtime.') },
      },
      ipam: ipamProp,
    },
  ),
  loopback: schema(
    'loopback',
    'loopback plugin',
    'This plugin sets the lo (loopback) interface of the container network namespace up. It needs no configuration beyond its type; the runtime (containerd) may also do this itself.',
    {},
  ),
  portmap: schema(
    'portmap',
    'portmap plugin',
    "This is a chained plugin that forwards traffic from one or more ports on the host to the container. It expects to be run as a chained plugin: it needs the result of a previous plugin (the container's IP).",
    {
      backend: {
        type: 'string',
        enum: ['iptables', 'nftables'],
        description:
          'The backend of the forwarding rules: "iptables" or "nftables" When omitted, iptables unless only nftables is available. externalSetMarkChain is iptables only.',
      },
      snat: bool(
        'Whether or not to set up SNAT rules for hairpin traffic (a container reaching its own host port).',
        true,
      ),
      masqAll: bool(
        "Masquerade all traffic to the host ports, not only hairpin traffic from the container's own subnet.",
        false,
      ),
      markMasqBit: int(
        'The mark bit to use for masquerading (0 to 31). Cannot be set together with externalSetMarkChain.',
        { minimum: 0, maximum: 31, default: 13 },
      ),
      externalSetMarkChain: str(
        "An existing iptables chain to use for setting marks, instead of the plugin's own (e.g. KUBE-MARK-MASQ).",
      ),
      conditionsV4: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Match conditions that restrict which IPv4 traffic is forwarded: iptables arguments (e.g. "-d", "192.0.2.0/24"), or with the nftables backend one nftables expression per entry (e.g. "ip daddr 192.0.2.0/24").',
      },
      conditionsV6: { type: 'array', items: { type: 'string' }, description: 'The same as conditionsV4, for IPv6.' },
      runtimeConfig: {
        type: 'object',
        description: 'Filled by the runtime from the pod spec (capability "portMappings").',
        properties: {
          portMappings: {
            type: 'array',
            items: {
              type: 'object',
              required: ['hostPort', 'containerPort'],
              properties: {
                hostPort: int('The port on the host.', { minimum: 1, maximum: 65535 }),
                containerPort: int('The port in the container.', { minimum: 1, maximum: 65535 }),
                protocol: {
                  type: 'string',
                  enum: ['tcp', 'udp', 'sctp'],
                  default: 'tcp',
                  description: 'The protocol: tcp, udp or sctp.',
                },
                hostIP: ip('Only forward traffic to this host IP.'),
              },
            },
          },
        },
      },
    },
  ),
  bandwidth: schema(
    'bandwidth',
    'bandwidth plugin',
    "This chained plugin shapes the traffic of the interface a previous plugin made with a token bucket filter (tbf) queuing discipline (plugins 1.9.1, as 1.1.1: only 1.5.x used HTB, reverted in 1.6). Ingress (traffic into the pod) is shaped on the host side of the veth; for egress it creates an Intermediate Functional Block device (ifb), redirects the host interface's ingress to it, and shapes it there.",
    {
      ingressRate: int(
        'The rate in bps at which traffic can enter an interface. Both ingressRate and ingressBurst must be set to limit ingress bandwidth.',
        { minimum: 1 },
      ),
      ingressBurst: int('The maximum amount in bits that tokens can be made available for instantaneously (ingress).', {
        minimum: 1,
      }),
      egressRate: int(
        'The rate in bps at which traffic can leave an interface. Both egressRate and egressBurst must be set to limit egress bandwidth.',
        { minimum: 1 },
      ),
      egressBurst: int('The maximum amount in bits that tokens can be made available for instantaneously (egress).', {
        minimum: 1,
      }),
      runtimeConfig: {
        type: 'object',
        description: 'Filled by the runtime from the pod\'s annotations (capability "bandwidth").',
        properties: {
          bandwidth: {
            type: 'object',
            properties: {
              ingressRate: { type: 'integer' },
              ingressBurst: { type: 'integer' },
              egressRate: { type: 'integer' },
              egressBurst: { type: 'integer' },
            },
          },
        },
      },
    },
    {
      dependencies: {
        ingressRate: ['ingressBurst'],
        ingressBurst: ['ingressRate'],
        egressRate: ['egressBurst'],
        egressBurst: ['egressRate'],
      },
    },
  ),
  firewall: schema(
    'firewall',
    'firewall plugin',
    'This plugin creates firewall rules to allow traffic to/from container IP addresses via the host network. It does not create any network interfaces and therefore does not set up connectivity by itself. It is intended to be used as a chained plugin.',
    {
      backend: {
        type: 'string',
        enum: ['iptables', 'firewalld'],
        default: 'iptables',
        description:
          'The firewall backend: "iptables", or "firewalld" when a firewalld daemon is running (it is not, in a lab world).',
      },
      iptablesAdminChainName: str(
        'An optional iptables chain name, created by the plugin, that an administrator can use for rules that apply to all containers.',
        { default: 'CNI-ADMIN' },
      ),
      firewalldZone: str('The firewalld zone the container IPs are added to (firewalld backend only).', {
        default: 'trusted',
      }),
      ingressPolicy: {
        type: 'string',
        enum: ['open', 'same-bridge'],
        default: 'open',
        description:
          '"open": all inbound connections to the container are accepted. "same-bridge": only connections from the same bridge (uses iptables whatever the backend).',
      },
    },
  ),
  tuning: schema(
    'tuning',
    'tuning plugin',
    "The tuning plugin changes some system controls (sysctls) and interface attributes (promiscuous mode, all-multicast mode, MTU and MAC address) in the container's network namespace. It is a chained plugin: it tunes the interface of the previous result.",
    {
      sysctl: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description:
          'System controls to set in the network namespace, e.g. "net.core.somaxconn": "500" (values are strings). IFNAME in a name is replaced by the interface\'s name: "net.ipv4.conf.IFNAME.arp_filter". Only sysctls of the network namespace (/proc/sys/net/*) can be changed.',
      },
      mac: str('The MAC address to set on the interface.', { pattern: MAC }),
      promisc: bool('Set promiscuous mode on (true) or off (false) on the interface.'),
      allmulti: bool(
        'Change the all-multicast mode of interface. If enabled, all multicast packets on the network will be received by the interface.',
      ),
      mtu: int('The MTU to set on the interface.', { minimum: 68, maximum: 65535 }),
      txQLen: int('The transmit queue length to set on the interface.', { minimum: 0 }),
      dataDir: str('Where the plugin keeps the original values, restored on DEL.', { default: '/run/cni/tuning' }),
      runtimeConfig: macRuntime,
    },
  ),
  sbr: schema(
    'sbr',
    'sbr plugin',
    "This plugin performs Source Based Routing (SBR): for the interface of the previous result it creates a new routing table (the first free one from 100 up), a rule to use it for the interface's IP addresses, a default route via the interface's gateway in that table, and moves every route of the device there. It must be used as a chained plugin; there are no specific configuration parameters.",
    {},
  ),
  vrf: schema(
    'vrf',
    'vrf plugin',
    "The vrf plugin creates a VRF device in the container's network namespace (or reuses one with the same name) and enslaves the interface of the previous result to it. It is a chained plugin.",
    {
      vrfname: str('The name of the VRF to create (or to reuse, when it already exists).', { maxLength: 15 }),
      table: int('The routing table id of the VRF. Assigned automatically when omitted.', { minimum: 1 }),
    },
    { required: ['vrfname'] },
  ),
  dummy: schema(
    'dummy',
    'dummy plugin',
    "The dummy plugin creates a dummy interface (a virtual interface that drops what it is sent) in the container's network namespace and gives it the addresses of its IPAM. It needs IPAM.",
    { ipam: ipamProp },
    { required: ['ipam'] },
  ),
  tap: schema(
    'tap',
    'tap plugin',
    "The tap plugin creates a tap device (a virtual interface a user-space program, e.g. a VM's emulator, reads and writes) in the container's network namespace.",
    {
      mtu,
      mac: str('The MAC address of the tap (also from runtimeConfig.mac or CNI_ARGS MAC).', { pattern: MAC }),
      multiQueue: bool('Create the tap with multiple queues.', false),
      owner: int('The user ID that owns the tap.', { minimum: 0 }),
      group: int('The group ID that owns the tap.', { minimum: 0 }),
      selinuxContext: str('The SELinux context to create the tap with.'),
      bridge: str("A bridge in the container's namespace to attach the tap to."),
      runtimeConfig: macRuntime,
      ipam: ipamProp,
    },
  ),
};

const IPAM = {
  'host-local': schema(
    'host-local',
    'host-local IPAM',
    'host-local IPAM allocates IPv4 and IPv6 addresses out of specified address ranges. It stores the state locally on the host filesystem (one file per address in dataDir/<network name>), ensuring uniqueness of IP addresses on a single host.',
    {
      type: { const: 'host-local' },
      ranges: {
        type: 'array',
        minItems: 1,
        description:
          'A list of range sets: one address is allocated from each set (so two sets give one IPv4 and one IPv6 address, for example). Each set is a list of ranges of the same family.',
        items: {
          type: 'array',
          minItems: 1,
          description: 'A range set: the ranges are tried in order until one has a free address.',
          items: {
            type: 'object',
            required: ['subnet'],
            properties: {
              subnet: cidr('CIDR block to allocate out of.'),
              rangeStart: ip(
                'IP inside of "subnet" from which to start allocating addresses. Defaults to ".2" IP inside of the "subnet" block.',
              ),
              rangeEnd: ip(
                'IP inside of "subnet" with which to end allocating addresses. Defaults to ".254" IP inside of the "subnet" block for ipv4, ".255" for IPv6.',
              ),
              gateway: ip(
                'IP inside of "subnet" to designate as the gateway. Defaults to ".1" IP inside of the "subnet" block.',
              ),
            },
          },
        },
      },
      subnet: cidr('(Legacy, use "ranges") CIDR block to allocate out of.'),
      rangeStart: ip('(Legacy, use "ranges") IP inside of "subnet" from which to start allocating addresses.'),
      rangeEnd: ip('(Legacy, use "ranges") IP inside of "subnet" with which to end allocating addresses.'),
      gateway: ip('(Legacy, use "ranges") IP inside of "subnet" to designate as the gateway.'),
      routes,
      dataDir: str(
        'Path to a directory to use for maintaining state, e.g. which IPs have been allocated to which containers.',
        { default: '/var/lib/cni/networks' },
      ),
      resolvConf: str('Path to a resolv.conf on the host to parse and return as the DNS configuration.'),
    },
    { anyOf: [{ required: ['ranges'] }, { required: ['subnet'] }] },
  ),
  static: schema(
    'static',
    'static IPAM',
    'Static IPAM is a very simple IPAM plugin that assigns IPv4 and IPv6 addresses statically to the container. This will be useful in debugging purpose and in case of assigning same IP addresses in different vlan/vxlan to containers.',
    {
      type: { const: 'static' },
      addresses: {
        type: 'array',
        description: 'An array of IP addresses.',
        items: {
          type: 'object',
          required: ['address'],
          properties: {
            address: cidr('IP address in CIDR notation (the address and its subnet, e.g. "10.10.0.1/24").'),
            gateway: ip("IP inside of the address's subnet to designate as the gateway."),
          },
        },
      },
      routes,
      dns,
    },
  ),
  dhcp: schema(
    'dhcp',
    'dhcp IPAM',
    'With dhcp plugin the containers can get an IP allocated by a DHCP server already running on your network. The plugin talks to the CNI dhcp daemon (started as "dhcp daemon"), which must be running on the node.',
    {
      type: { const: 'dhcp' },
      daemonSocketPath: str("The path to the dhcp daemon's socket.", { default: '/run/cni/dhcp.sock' }),
      priority: int('The metric of the routes the lease gives.', { minimum: 0 }),
      request: {
        type: 'array',
        description: 'DHCP options to request.',
        items: {
          type: 'object',
          properties: {
            option: str('The DHCP option name or number.'),
            skipDefault: bool('Do not request the default options (subnet mask, routers, …).', false),
          },
        },
      },
      provide: {
        type: 'array',
        description: 'DHCP options to send to the server (e.g. host-name).',
        items: {
          type: 'object',
          properties: {
            option: str('The DHCP option name or number.'),
            value: str('The value to send.'),
            fromArg: str('Take the value from this CNI_ARGS key.'),
          },
        },
      },
    },
  ),
};

const KNOWN_PLUGINS = Object.keys(PLUGINS);
const KNOWN_IPAM = Object.keys(IPAM);
const NAME = '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$';

const ipam = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: id('ipam'),
  title: 'IPAM configuration',
  description:
    'The IPAM plugin that allocates addresses for the interface: its "type" names the binary; the other fields are that plugin\'s own.',
  type: 'object',
  properties: {
    type: {
      description: 'The IPAM plugin binary to run (host-local, static or dhcp).',
      anyOf: [{ enum: KNOWN_IPAM }, { type: 'string', pattern: NAME }],
    },
  },
  allOf: KNOWN_IPAM.map((t) => ({ if: { properties: { type: { const: t } }, required: ['type'] }, then: ref(t) })),
};

const capabilities = {
  type: 'object',
  description:
    'Capabilities this plugin supports: the runtime passes matching data from the pod (portMappings, bandwidth, ips, mac, dns, …) in "runtimeConfig".',
  additionalProperties: { type: 'boolean' },
  properties: {
    portMappings: bool("Receive the pod's host ports in runtimeConfig.portMappings (portmap)."),
    bandwidth: bool("Receive the pod's bandwidth annotations in runtimeConfig.bandwidth (bandwidth)."),
    ips: bool('Receive requested IPs in runtimeConfig.ips (static IPAM).'),
    mac: bool('Receive a requested MAC address in runtimeConfig.mac (tuning).'),
    dns: bool('Receive DNS settings in runtimeConfig.dns.'),
  },
};

const plugin = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: id('plugin'),
  title: 'plugin configuration',
  description:
    'One plugin of the chain: "type" names the plugin binary in CNI_PATH (/opt/cni/bin); the runtime adds "name", "cniVersion" and, from the second plugin on, "prevResult".',
  type: 'object',
  required: ['type'],
  properties: {
    type: {
      description: 'Refers to the filename of the CNI plugin executable (in /opt/cni/bin).',
      anyOf: [{ enum: KNOWN_PLUGINS }, { type: 'string', pattern: NAME }],
    },
    capabilities,
    ipam: { type: 'object', description: 'Dictionary with IPAM (IP Address Management) specific values.' },
    dns: dns,
    args: {
      type: 'object',
      description: 'Additional arguments provided by the container runtime (e.g. labels), under a key such as "cni".',
    },
    runtimeConfig: {
      type: 'object',
      description: 'Filled by the runtime from the capabilities this plugin declares; rarely written by hand.',
    },
  },
  allOf: KNOWN_PLUGINS.map((t) => ({ if: { properties: { type: { const: t } }, required: ['type'] }, then: ref(t) })),
};

const cniVersion = {
  type: 'string',
  enum: VERSIONS,
  description:
    "Semantic Version 2.0 of the CNI specification to which this configuration list and all the individual configurations adhere. The CNI plugins 1.9.1 the lab uses speak up to 1.1.0 (STATUS and GC); Debian 12's 1.1.1 up to 1.0.0.",
};
const netName = {
  type: 'string',
  pattern: NAME,
  description:
    'Network name. This should be unique across all network configurations on a host (or other administrative domain). Must start with an alphanumeric character, optionally followed by any combination of one or more alphanumeric characters, underscore, dot (.) or hyphen (-).',
};

const snippet = (label, description, body) => ({ label, description, body });
const hostLocal = (subnet) => ({ type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] });
const conflistSnippets = [
  snippet('bridge + host-local', 'Pods on a Linux bridge (cni0), addresses from host-local, the bridge as gateway.', {
    cniVersion: '1.0.0',
    name: '${1:podnet}',
    plugins: [
      { type: 'bridge', bridge: '${2:cni0}', isGateway: true, ipMasq: false, ipam: hostLocal('${3:10.244.1.0/24}') },
    ],
  }),
  snippet('ptp + host-local', 'A veth pair per pod, routed by the host (no bridge).', {
    cniVersion: '1.0.0',
    name: '${1:ptpnet}',
    plugins: [{ type: 'ptp', ipMasq: false, ipam: hostLocal('${2:10.244.1.0/24}') }],
  }),
  snippet('macvlan + host-local', "Pods on macvlan interfaces of the node's eth0.", {
    cniVersion: '1.0.0',
    name: '${1:macvlannet}',
    plugins: [
      {
        type: 'macvlan',
        master: '${2:eth0}',
        mode: 'bridge',
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '${3:192.0.2.0/24}', rangeStart: '192.0.2.100', rangeEnd: '192.0.2.199' }]],
        },
      },
    ],
  }),
  snippet(
    'chain: bridge, portmap, bandwidth',
    'The common Kubernetes chain: bridge + host-local, then host ports and traffic shaping.',
    {
      cniVersion: '1.0.0',
      name: '${1:podnet}',
      plugins: [
        { type: 'bridge', bridge: 'cni0', isGateway: true, ipam: hostLocal('${2:10.244.1.0/24}') },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    },
  ),
  snippet(
    'flannel-style delegate (bridge)',
    "What flannel's plugin writes for its delegate: a bridge with the node's subnet, hairpin on, the bridge as default gateway, and portmap.",
    {
      cniVersion: '1.0.0',
      name: '${1:cbr0}',
      plugins: [
        {
          type: 'bridge',
          bridge: '${2:cni0}',
          mtu: 1450,
          hairpinMode: true,
          isDefaultGateway: true,
          ipMasq: false,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '${3:10.244.1.0/24}' }]],
            routes: [{ dst: '10.244.0.0/16' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
  ),
];

const conflist = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: id('conflist'),
  title: 'CNI network configuration list (.conflist)',
  description:
    'A network configuration list: the plugins run in order for ADD (each fed the previous result) and in reverse for DEL.',
  type: 'object',
  required: ['name', 'plugins'],
  properties: {
    cniVersion,
    cniVersions: {
      type: 'array',
      items: { type: 'string' },
      description: 'The versions this list is valid for; the runtime picks the highest it implements (spec 1.1.0).',
    },
    name: netName,
    disableCheck: bool('If true, runtimes must not call CHECK for this network configuration list.', false),
    disableGC: bool('If true, runtimes must not call GC for this network configuration list (spec 1.1.0).', false),
    plugins: {
      type: 'array',
      minItems: 1,
      description: 'A list of CNI plugins and their configuration, run in order.',
      items: ref('plugin'),
    },
  },
  defaultSnippets: conflistSnippets,
};

const conf = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: id('conf'),
  title: 'CNI network configuration (.conf)',
  description: "A single plugin's configuration: the runtime upconverts it to a list of one plugin.",
  allOf: [ref('plugin')],
  required: ['cniVersion', 'name', 'type'],
  properties: { cniVersion, name: netName },
  defaultSnippets: [
    snippet('bridge + host-local (.conf)', 'One bridge plugin with host-local IPAM.', {
      cniVersion: '1.0.0',
      name: '${1:podnet}',
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipam: hostLocal('${2:10.244.1.0/24}'),
    }),
    snippet('ptp + static (.conf)', 'A veth pair with a fixed address.', {
      cniVersion: '1.0.0',
      name: '${1:ptpnet}',
      type: 'ptp',
      ipam: {
        type: 'static',
        addresses: [{ address: '${2:10.244.1.10/24}', gateway: '10.244.1.1' }],
        routes: [{ dst: '0.0.0.0/0' }],
      },
    }),
  ],
};

const all = { conflist, conf, plugin, ipam, ...PLUGINS, ...IPAM };
for (const [n, s] of Object.entries(all)) writeFileSync(`${out}/${n}.json`, JSON.stringify(s, null, 2) + '\n');
console.log(Object.keys(all).join(' '));
