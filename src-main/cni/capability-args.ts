// The capability args containerd 2.1 hands to go-cni for a sandbox (cniNamespaceOpts in
// internal/cri/server/sandbox_run.go), shaped as go-cni 1.1.13's structs serialise: Go's
// encoding/json with no JSON tags, so the keys are the Go field names in declaration order.
import type { Json, JsonObject } from './conf.js';
import { goStruct } from './go-json.js';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP: string;
}
export interface BandWidth {
  ingressRate: number;
  ingressBurst: number;
  egressRate: number;
  egressBurst: number;
}
export interface DnsCapability {
  servers: string[];
  searches: string[];
  options: string[];
}
export interface PodCapabilities {
  annotations: Record<string, string>;
  portMappings?: PortMapping[];
  bandwidth?: BandWidth;
  dns?: DnsCapability;
  cgroupPath?: string;
}

/** The capability key containerd always sends: the pod's annotations (annotations.PodAnnotations). */
export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';
export const INGRESS_BANDWIDTH_ANNOTATION = 'kubernetes.io/ingress-bandwidth';
export const EGRESS_BANDWIDTH_ANNOTATION = 'kubernetes.io/egress-bandwidth';
/** containerd sets each present direction's burst to math.MaxUint32. */
export const MAX_UINT32 = 4294967295;

/** A Go map[string]string as encoding/json writes it: keys sorted; a nil map (what CRI's protobuf gives for an empty one) is null. */
function goStringMap(m: Record<string, string>): Json {
  const keys = Object.keys(m).sort();
  if (keys.length === 0) return null;
  const o: JsonObject = {};
  for (const k of keys) o[k] = m[k]!;
  return o;
}

/** A Go []string: CRI's protobuf decodes an empty repeated field as nil, which encoding/json writes as null. */
function goStrings(a: string[]): Json {
  return a.length ? [...a] : null;
}

/**
 * containerd 2.1's capability args for a sandbox, as go-cni hands them to libcni (Go field names).
 * Insertion order is Go's: map keys sorted, struct fields in declaration order.
 */
export function goCniCapabilityArgs(c: PodCapabilities): JsonObject {
  const out: JsonObject = {};
  // go-cni keeps these in a Go map, so libcni writes them sorted by key; we insert them sorted too.
  if (c.bandwidth) {
    const b = c.bandwidth;
    out.bandwidth = goStruct({
      IngressRate: b.ingressRate,
      IngressBurst: b.ingressBurst,
      EgressRate: b.egressRate,
      EgressBurst: b.egressBurst,
    });
  }
  if (c.cgroupPath) out.cgroupPath = c.cgroupPath;
  if (c.dns) {
    out.dns = goStruct({
      Servers: goStrings(c.dns.servers),
      Searches: goStrings(c.dns.searches),
      Options: goStrings(c.dns.options),
    });
  }
  out[POD_ANNOTATIONS_CAPABILITY] = goStringMap(c.annotations);
  // toCNIPortMappings keeps only mappings with a host port; none left means no portMappings key at all.
  const ports = (c.portMappings ?? []).filter((p) => p.hostPort > 0);
  if (ports.length) {
    out.portMappings = ports.map((p) =>
      goStruct({
        HostPort: p.hostPort,
        ContainerPort: p.containerPort,
        Protocol: p.protocol.toLowerCase(),
        HostIP: p.hostIP,
      }),
    );
  }
  return out;
}

const QUANTITY_RE_TEXT = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const ERR_FORMAT = `quantities must match the regular expression '${QUANTITY_RE_TEXT}'`;
const ERR_SUFFIX = "unable to parse quantity's suffix";
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** A value as numerator/denominator of BigInts. */
interface Ratio {
  n: bigint;
  d: bigint;
}

/** Kubernetes' resource.ParseQuantity (containerd's internal copy), to the exact value. */
export function parseQuantity(str: string): Ratio {
  if (str === '') throw new Error(ERR_FORMAT);
  let pos = 0;
  let positive = true;
  if (str[0] === '-' || str[0] === '+') {
    positive = str[0] === '+';
    pos++;
  }
  const digits = (from: number) => {
    let i = from;
    while (i < str.length && str[i]! >= '0' && str[i]! <= '9') i++;
    return i;
  };
  let end = digits(pos);
  const num = str.slice(pos, end) || '0';
  pos = end;
  let denom = '';
  if (str[pos] === '.') {
    end = digits(pos + 1);
    denom = str.slice(pos + 1, end);
    pos = end;
  }
  const suffix = str.slice(pos);
  // The suffix scanner: letters from the suffix alphabet, an optional sign, then digits only.
  if (!/^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix)) throw new Error(ERR_FORMAT);
  let value: Ratio = { n: BigInt(num + denom), d: 10n ** BigInt(denom.length) };
  if (suffix in DECIMAL_SUFFIX) {
    const e = DECIMAL_SUFFIX[suffix]!;
    value = e >= 0 ? { n: value.n * 10n ** BigInt(e), d: value.d } : { n: value.n, d: value.d * 10n ** BigInt(-e) };
  } else if (suffix in BINARY_SUFFIX) {
    value = { n: value.n * 2n ** BigInt(BINARY_SUFFIX[suffix]!), d: value.d };
  } else {
    const m = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
    if (!m) throw new Error(ERR_SUFFIX);
    const e = Number(m[1]);
    value = e >= 0 ? { n: value.n * 10n ** BigInt(e), d: value.d } : { n: value.n, d: value.d * 10n ** BigInt(-e) };
  }
  return positive ? value : { n: -value.n, d: value.d };
}

/** Quantity.Value(): rounded up, away from zero, to an integer. */
function quantityValue(q: Ratio): bigint {
  const whole = q.n / q.d;
  return q.n % q.d === 0n ? whole : q.n > 0n ? whole + 1n : whole - 1n;
}

/** containerd's bandwidth.ExtractPodBandwidthResources for one annotation: bits per second, 1k…1P. */
function bandwidthValue(text: string): number {
  const v = quantityValue(parseQuantity(text));
  if (v < 1000n) throw new Error('resource is unreasonably small (< 1kbit)');
  if (v > 10n ** 15n) throw new Error('resource is unreasonably large (> 1Pbit)');
  return Number(v);
}

/**
 * containerd's bandwidth from the pod annotations (toCNIBandWidth): each present annotation is a
 * Kubernetes quantity of bits per second ("1M" = 1000000, "1Mi" = 1048576) with burst MaxUint32;
 * an absent direction stays 0. Undefined when neither is set. A bad quantity throws containerd's
 * error ("reading pod bandwidth annotations: …"), which fails RunPodSandbox.
 */
export function bandwidthFromAnnotations(a: Record<string, string>): BandWidth | undefined {
  const ingress = a[INGRESS_BANDWIDTH_ANNOTATION];
  const egress = a[EGRESS_BANDWIDTH_ANNOTATION];
  if (ingress === undefined && egress === undefined) return undefined;
  const bw: BandWidth = { ingressRate: 0, ingressBurst: 0, egressRate: 0, egressBurst: 0 };
  try {
    if (ingress !== undefined) bw.ingressRate = bandwidthValue(ingress);
    if (egress !== undefined) bw.egressRate = bandwidthValue(egress);
  } catch (e) {
    throw new Error(`reading pod bandwidth annotations: ${(e as Error).message}`, { cause: e });
  }
  if (ingress !== undefined) bw.ingressBurst = MAX_UINT32;
  if (egress !== undefined) bw.egressBurst = MAX_UINT32;
  return bw;
}
