// The pod network a fresh node gets: the bridge plugin with host-local IPAM, as in the seeds.

/** The pod CIDR of the world's node i (0-based): 10.244.(i+1).0/24, as the world numbers its nodes. */
export const defaultPodCidr = (i: number) => `10.244.${i + 1}.0/24`;

/** A bridge + host-local conflist for a node's pod CIDR (cni0 is the gateway). */
export function bridgeConfList(podCidr: string, name = 'podnet'): string {
  const conf = {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

export const DEFAULT_CONF_FILE = '10-podnet.conflist';
