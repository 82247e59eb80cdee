// Kubernetes' protobuf wire format for request bodies (kubectl's typed clients send it): the "k8s\0" magic, a
// runtime.Unknown envelope, and the object's message, turned into the JSON object the JSON path would read.

/** A body that is not well-formed protobuf: what is wrong, and where. */
export class ProtobufError extends Error {}

/** A field's JSON type: a scalar, a special message (Time, IntOrString, Quantity), or opaque. */
type Builtin =
  | 'string'
  | 'int'
  | 'bool'
  | 'bytes'
  | 'map'
  | 'quantityMap'
  | 'opaqueMap'
  | 'time'
  | 'microTime'
  | 'intOrString'
  | 'quantity'
  | 'opaque';
/** A builtin, or the name of a message in MESSAGES. */
type FieldType = Builtin | (string & {});
type Field = [name: string, type: FieldType, repeated?: true];

/**
 * Field numbers of the messages the lab's API server stores, from the upstream generated.proto files
 * (k8s.io/api core/v1 and discovery/v1, k8s.io/apimachinery meta/v1). A message the model does not act on is
 * 'opaque': present and non-empty, it reads as {} so validation refuses the field as it refuses it in JSON. A
 * field named '' is embedded (json:",inline"): its fields are the parent's.
 */
const MESSAGES: Record<string, Record<number, Field>> = {
  ObjectMeta: {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    4: ['selfLink', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['generation', 'int'],
    8: ['creationTimestamp', 'time'],
    9: ['deletionTimestamp', 'time'],
    10: ['deletionGracePeriodSeconds', 'int'],
    11: ['labels', 'map'],
    12: ['annotations', 'map'],
    13: ['ownerReferences', 'OwnerReference', true],
    14: ['finalizers', 'string', true],
    17: ['managedFields', 'opaque', true],
  },
  OwnerReference: {
    5: ['apiVersion', 'string'],
    1: ['kind', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
    6: ['controller', 'bool'],
    7: ['blockOwnerDeletion', 'bool'],
  },
  Service: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'ServiceSpec'], 3: ['status', 'ServiceStatus'] },
  ServiceSpec: {
    1: ['ports', 'ServicePort', true],
    2: ['selector', 'map'],
    3: ['clusterIP', 'string'],
    18: ['clusterIPs', 'string', true],
    4: ['type', 'string'],
    5: ['externalIPs', 'string', true],
    7: ['sessionAffinity', 'string'],
    8: ['loadBalancerIP', 'string'],
    9: ['loadBalancerSourceRanges', 'string', true],
    10: ['externalName', 'string'],
    11: ['externalTrafficPolicy', 'string'],
    12: ['healthCheckNodePort', 'int'],
    13: ['publishNotReadyAddresses', 'bool'],
    14: ['sessionAffinityConfig', 'opaque'],
    19: ['ipFamilies', 'string', true],
    17: ['ipFamilyPolicy', 'string'],
    20: ['allocateLoadBalancerNodePorts', 'bool'],
    21: ['loadBalancerClass', 'string'],
    22: ['internalTrafficPolicy', 'string'],
    23: ['trafficDistribution', 'string'],
  },
  ServicePort: {
    1: ['name', 'string'],
    2: ['protocol', 'string'],
    6: ['appProtocol', 'string'],
    3: ['port', 'int'],
    4: ['targetPort', 'intOrString'],
    5: ['nodePort', 'int'],
  },
  ServiceStatus: { 1: ['loadBalancer', 'LoadBalancerStatus'], 2: ['conditions', 'opaque', true] },
  LoadBalancerStatus: { 1: ['ingress', 'LoadBalancerIngress', true] },
  LoadBalancerIngress: {
    1: ['ip', 'string'],
    2: ['hostname', 'string'],
    3: ['ipMode', 'string'],
    4: ['ports', 'PortStatus', true],
  },
  PortStatus: { 1: ['port', 'int'], 2: ['protocol', 'string'], 3: ['error', 'string'] },
  Namespace: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'NamespaceSpec'], 3: ['status', 'NamespaceStatus'] },
  NamespaceSpec: { 1: ['finalizers', 'string', true] },
  NamespaceStatus: { 1: ['phase', 'string'], 2: ['conditions', 'opaque', true] },
  Pod: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'PodSpec'], 3: ['status', 'PodStatus'] },
  PodSpec: {
    1: ['volumes', 'opaque', true],
    20: ['initContainers', 'Container', true],
    2: ['containers', 'Container', true],
    34: ['ephemeralContainers', 'opaque', true],
    3: ['restartPolicy', 'string'],
    4: ['terminationGracePeriodSeconds', 'int'],
    5: ['activeDeadlineSeconds', 'int'],
    6: ['dnsPolicy', 'string'],
    7: ['nodeSelector', 'map'],
    8: ['serviceAccountName', 'string'],
    9: ['serviceAccount', 'string'],
    21: ['automountServiceAccountToken', 'bool'],
    10: ['nodeName', 'string'],
    11: ['hostNetwork', 'bool'],
    12: ['hostPID', 'bool'],
    13: ['hostIPC', 'bool'],
    27: ['shareProcessNamespace', 'bool'],
    14: ['securityContext', 'opaque'],
    15: ['imagePullSecrets', 'opaque', true],
    16: ['hostname', 'string'],
    17: ['subdomain', 'string'],
    18: ['affinity', 'opaque'],
    19: ['schedulerName', 'string'],
    22: ['tolerations', 'Toleration', true],
    23: ['hostAliases', 'opaque', true],
    24: ['priorityClassName', 'string'],
    25: ['priority', 'int'],
    26: ['dnsConfig', 'opaque'],
    28: ['readinessGates', 'opaque', true],
    29: ['runtimeClassName', 'string'],
    30: ['enableServiceLinks', 'bool'],
    31: ['preemptionPolicy', 'string'],
    32: ['overhead', 'quantityMap'],
    33: ['topologySpreadConstraints', 'opaque', true],
    35: ['setHostnameAsFQDN', 'bool'],
    36: ['os', 'opaque'],
    37: ['hostUsers', 'bool'],
    38: ['schedulingGates', 'opaque', true],
    39: ['resourceClaims', 'opaque', true],
    40: ['resources', 'ResourceRequirements'],
    41: ['hostnameOverride', 'string'],
    43: ['schedulingGroup', 'opaque'],
    44: ['evictionResponders', 'opaque', true],
  },
  Container: {
    1: ['name', 'string'],
    2: ['image', 'string'],
    3: ['command', 'string', true],
    4: ['args', 'string', true],
    5: ['workingDir', 'string'],
    6: ['ports', 'ContainerPort', true],
    19: ['envFrom', 'opaque', true],
    7: ['env', 'EnvVar', true],
    8: ['resources', 'ResourceRequirements'],
    23: ['resizePolicy', 'opaque', true],
    24: ['restartPolicy', 'string'],
    25: ['restartPolicyRules', 'opaque', true],
    9: ['volumeMounts', 'opaque', true],
    21: ['volumeDevices', 'opaque', true],
    10: ['livenessProbe', 'Probe'],
    11: ['readinessProbe', 'Probe'],
    22: ['startupProbe', 'Probe'],
    12: ['lifecycle', 'Lifecycle'],
    13: ['terminationMessagePath', 'string'],
    20: ['terminationMessagePolicy', 'string'],
    14: ['imagePullPolicy', 'string'],
    15: ['securityContext', 'opaque'],
    16: ['stdin', 'bool'],
    17: ['stdinOnce', 'bool'],
    18: ['tty', 'bool'],
  },
  ContainerPort: {
    1: ['name', 'string'],
    2: ['hostPort', 'int'],
    3: ['containerPort', 'int'],
    4: ['protocol', 'string'],
    5: ['hostIP', 'string'],
  },
  EnvVar: { 1: ['name', 'string'], 2: ['value', 'string'], 3: ['valueFrom', 'opaque'] },
  Probe: {
    1: ['', 'ProbeHandler'],
    2: ['initialDelaySeconds', 'int'],
    3: ['timeoutSeconds', 'int'],
    4: ['periodSeconds', 'int'],
    5: ['successThreshold', 'int'],
    6: ['failureThreshold', 'int'],
    7: ['terminationGracePeriodSeconds', 'int'],
  },
  ProbeHandler: {
    1: ['exec', 'ExecAction'],
    2: ['httpGet', 'HTTPGetAction'],
    3: ['tcpSocket', 'TCPSocketAction'],
    4: ['grpc', 'opaque'],
  },
  HTTPGetAction: {
    1: ['path', 'string'],
    2: ['port', 'intOrString'],
    3: ['host', 'string'],
    4: ['scheme', 'string'],
    5: ['httpHeaders', 'HTTPHeader', true],
    6: ['protocol', 'string'],
  },
  HTTPHeader: { 1: ['name', 'string'], 2: ['value', 'string'] },
  TCPSocketAction: { 1: ['port', 'intOrString'], 2: ['host', 'string'] },
  ExecAction: { 1: ['command', 'string', true] },
  Lifecycle: { 1: ['postStart', 'LifecycleHandler'], 2: ['preStop', 'LifecycleHandler'], 3: ['stopSignal', 'string'] },
  LifecycleHandler: {
    1: ['exec', 'ExecAction'],
    2: ['httpGet', 'HTTPGetAction'],
    3: ['tcpSocket', 'TCPSocketAction'],
    4: ['sleep', 'opaque'],
  },
  Toleration: {
    1: ['key', 'string'],
    2: ['operator', 'string'],
    3: ['value', 'string'],
    4: ['effect', 'string'],
    5: ['tolerationSeconds', 'int'],
  },
  ResourceRequirements: { 1: ['limits', 'quantityMap'], 2: ['requests', 'quantityMap'], 3: ['claims', 'opaque', true] },
  PodStatus: {
    17: ['observedGeneration', 'int'],
    1: ['phase', 'string'],
    2: ['conditions', 'PodCondition', true],
    3: ['message', 'string'],
    4: ['reason', 'string'],
    11: ['nominatedNodeName', 'string'],
    5: ['hostIP', 'string'],
    16: ['hostIPs', 'HostIP', true],
    6: ['podIP', 'string'],
    12: ['podIPs', 'PodIP', true],
    7: ['startTime', 'time'],
    10: ['initContainerStatuses', 'ContainerStatus', true],
    8: ['containerStatuses', 'ContainerStatus', true],
    9: ['qosClass', 'string'],
    13: ['ephemeralContainerStatuses', 'ContainerStatus', true],
    14: ['resize', 'string'],
    15: ['resourceClaimStatuses', 'opaque', true],
    18: ['extendedResourceClaimStatus', 'opaque'],
    19: ['allocatedResources', 'quantityMap'],
    20: ['resources', 'ResourceRequirements'],
    21: ['nodeAllocatableResourceClaimStatuses', 'opaque', true],
    22: ['volumeHealth', 'opaque', true],
  },
  PodCondition: {
    1: ['type', 'string'],
    7: ['observedGeneration', 'int'],
    2: ['status', 'string'],
    3: ['lastProbeTime', 'time'],
    4: ['lastTransitionTime', 'time'],
    5: ['reason', 'string'],
    6: ['message', 'string'],
  },
  PodIP: { 1: ['ip', 'string'] },
  HostIP: { 1: ['ip', 'string'] },
  ContainerStatus: {
    1: ['name', 'string'],
    2: ['state', 'ContainerState'],
    3: ['lastState', 'ContainerState'],
    4: ['ready', 'bool'],
    5: ['restartCount', 'int'],
    6: ['image', 'string'],
    7: ['imageID', 'string'],
    8: ['containerID', 'string'],
    9: ['started', 'bool'],
    10: ['allocatedResources', 'quantityMap'],
    11: ['resources', 'ResourceRequirements'],
    12: ['volumeMounts', 'opaque', true],
    13: ['user', 'opaque'],
    14: ['allocatedResourcesStatus', 'opaque', true],
    15: ['stopSignal', 'string'],
  },
  ContainerState: {
    1: ['waiting', 'ContainerStateWaiting'],
    2: ['running', 'ContainerStateRunning'],
    3: ['terminated', 'ContainerStateTerminated'],
  },
  ContainerStateRunning: { 1: ['startedAt', 'time'] },
  ContainerStateWaiting: { 1: ['reason', 'string'], 2: ['message', 'string'] },
  ContainerStateTerminated: {
    1: ['exitCode', 'int'],
    2: ['signal', 'int'],
    3: ['reason', 'string'],
    4: ['message', 'string'],
    5: ['startedAt', 'time'],
    6: ['finishedAt', 'time'],
    7: ['containerID', 'string'],
  },
  Event: {
    1: ['metadata', 'ObjectMeta'],
    2: ['involvedObject', 'ObjectReference'],
    3: ['reason', 'string'],
    4: ['message', 'string'],
    5: ['source', 'EventSource'],
    6: ['firstTimestamp', 'time'],
    7: ['lastTimestamp', 'time'],
    8: ['count', 'int'],
    9: ['type', 'string'],
    10: ['eventTime', 'microTime'],
    11: ['series', 'EventSeries'],
    12: ['action', 'string'],
    13: ['related', 'ObjectReference'],
    14: ['reportingComponent', 'string'],
    15: ['reportingInstance', 'string'],
  },
  ObjectReference: {
    1: ['kind', 'string'],
    2: ['namespace', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
    5: ['apiVersion', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['fieldPath', 'string'],
  },
  EventSource: { 1: ['component', 'string'], 2: ['host', 'string'] },
  EventSeries: { 1: ['count', 'int'], 2: ['lastObservedTime', 'microTime'] },
  Node: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'NodeSpec'], 3: ['status', 'NodeStatus'] },
  NodeSpec: {
    1: ['podCIDR', 'string'],
    7: ['podCIDRs', 'string', true],
    3: ['providerID', 'string'],
    4: ['unschedulable', 'bool'],
    5: ['taints', 'Taint', true],
    6: ['configSource', 'opaque'],
    2: ['externalID', 'string'],
    8: ['podPreemptionPolicy', 'opaque'],
  },
  Taint: { 1: ['key', 'string'], 2: ['value', 'string'], 3: ['effect', 'string'], 4: ['timeAdded', 'time'] },
  NodeStatus: {
    1: ['capacity', 'quantityMap'],
    2: ['allocatable', 'quantityMap'],
    3: ['phase', 'string'],
    4: ['conditions', 'NodeCondition', true],
    5: ['addresses', 'NodeAddress', true],
    6: ['daemonEndpoints', 'NodeDaemonEndpoints'],
    7: ['nodeInfo', 'NodeSystemInfo'],
    8: ['images', 'opaque', true],
    9: ['volumesInUse', 'string', true],
    10: ['volumesAttached', 'opaque', true],
    11: ['config', 'opaque'],
    12: ['runtimeHandlers', 'opaque', true],
    13: ['features', 'opaque'],
    14: ['declaredFeatures', 'string', true],
  },
  NodeCondition: {
    1: ['type', 'string'],
    2: ['status', 'string'],
    3: ['lastHeartbeatTime', 'time'],
    4: ['lastTransitionTime', 'time'],
    5: ['reason', 'string'],
    6: ['message', 'string'],
  },
  NodeAddress: { 1: ['type', 'string'], 2: ['address', 'string'] },
  NodeSystemInfo: {
    1: ['machineID', 'string'],
    2: ['systemUUID', 'string'],
    3: ['bootID', 'string'],
    4: ['kernelVersion', 'string'],
    5: ['osImage', 'string'],
    6: ['containerRuntimeVersion', 'string'],
    7: ['kubeletVersion', 'string'],
    8: ['kubeProxyVersion', 'string'],
    9: ['operatingSystem', 'string'],
    10: ['architecture', 'string'],
    11: ['swap', 'opaque'],
  },
  NodeDaemonEndpoints: { 1: ['kubeletEndpoint', 'DaemonEndpoint'] },
  DaemonEndpoint: { 1: ['Port', 'int'] },
  Binding: { 1: ['metadata', 'ObjectMeta'], 2: ['target', 'ObjectReference'] },
  EndpointSlice: {
    1: ['metadata', 'ObjectMeta'],
    4: ['addressType', 'string'],
    2: ['endpoints', 'Endpoint', true],
    3: ['ports', 'EndpointPort', true],
  },
  Endpoint: {
    1: ['addresses', 'string', true],
    2: ['conditions', 'EndpointConditions'],
    3: ['hostname', 'string'],
    4: ['targetRef', 'ObjectReference'],
    5: ['deprecatedTopology', 'map'],
    6: ['nodeName', 'string'],
    7: ['zone', 'string'],
    8: ['hints', 'EndpointHints'],
  },
  EndpointConditions: { 1: ['ready', 'bool'], 2: ['serving', 'bool'], 3: ['terminating', 'bool'] },
  EndpointPort: { 1: ['name', 'string'], 2: ['protocol', 'string'], 3: ['port', 'int'], 4: ['appProtocol', 'string'] },
  EndpointHints: { 1: ['forZones', 'ForZone', true], 2: ['forNodes', 'ForNode', true] },
  ForZone: { 1: ['name', 'string'] },
  ForNode: { 1: ['name', 'string'] },
};

/**
 * Scalars whose zero value JSON keeps: Go pointers (*bool, *int64: sent only when set, so a sent false or 0
 * is meant) and fields without omitempty. Every other zero reads as left out, as omitempty leaves it.
 */
const KEEP_ZERO = new Set([
  'ObjectMeta.deletionGracePeriodSeconds',
  'OwnerReference.controller',
  'OwnerReference.blockOwnerDeletion',
  'PodSpec.terminationGracePeriodSeconds',
  'PodSpec.activeDeadlineSeconds',
  'PodSpec.automountServiceAccountToken',
  'PodSpec.shareProcessNamespace',
  'PodSpec.enableServiceLinks',
  'PodSpec.setHostnameAsFQDN',
  'PodSpec.hostUsers',
  'PodSpec.priority',
  'Toleration.tolerationSeconds',
  'ContainerStatus.ready',
  'ContainerStatus.restartCount',
  'ContainerStatus.started',
  'ContainerStateTerminated.exitCode',
  'ServiceSpec.allocateLoadBalancerNodePorts',
  'EndpointConditions.ready',
  'EndpointConditions.serving',
  'EndpointConditions.terminating',
  'EndpointPort.port',
  'DaemonEndpoint.Port',
]);

/** The kinds whose protobuf bodies the server reads (each is the MESSAGES entry of its name). */
export const PROTOBUF_KINDS = ['Service', 'Namespace', 'Pod', 'Event', 'Node', 'EndpointSlice', 'Binding'] as const;

export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from('k8s\0', 'latin1');

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** A cursor over one message's bytes; offsets are the body's, so errors point into what was sent. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
    private readonly base: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The absolute offset in the body, for messages. */
  at(pos = this.pos): number {
    return this.base + pos;
  }

  /** A varint that fits a number (keys, lengths): the common one-to-four-byte case without BigInt. */
  count(what: string, detail = ''): number {
    let v = 0;
    for (let i = 0; i < 4 && this.pos + i < this.end; i++) {
      const b = this.buf[this.pos + i] ?? 0;
      v += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) {
        this.pos += i + 1;
        return v;
      }
    }
    return Number(this.varint(detail ? `${what}: ${detail}` : what));
  }

  varint(what: string): bigint {
    const start = this.pos;
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end)
        throw new ProtobufError(
          `${what}: truncated varint at offset ${this.at(start)} (the body ends at ${this.at(this.end)})`,
        );
      const b = this.buf[this.pos++] ?? 0;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw new ProtobufError(`${what}: varint at offset ${this.at(start)} is longer than 10 bytes`);
  }

  bytes(what: string): { start: number; end: number } {
    const at = this.pos;
    const n = this.count(what);
    if (n > this.end - this.pos)
      throw new ProtobufError(
        `${what}: length ${n} at offset ${this.at(at)} runs past the end of its message (${this.end - this.pos} bytes left)`,
      );
    const start = this.pos;
    this.pos += n;
    return { start, end: this.pos };
  }

  skip(wire: number, what: string): void {
    const need = wire === WIRE_FIXED64 ? 8 : wire === WIRE_FIXED32 ? 4 : 0;
    if (wire === WIRE_VARINT) this.varint(what);
    else if (wire === WIRE_LEN) this.bytes(what);
    else if (need) {
      if (this.pos + need > this.end)
        throw new ProtobufError(`${what}: fixed${need * 8} at offset ${this.at()} runs past the end of its message`);
      this.pos += need;
    } else
      throw new ProtobufError(`${what}: wire type ${wire} at offset ${this.at()} is not used by Kubernetes' messages`);
  }

  sub(r: { start: number; end: number }): Reader {
    return new Reader(this.buf, r.start, r.end, this.base);
  }

  /** What is left of this message, as text (a map's string value). */
  rest(): string {
    return this.buf.toString('utf8', this.pos, this.end);
  }

  base64(r: { start: number; end: number }): string {
    return this.buf.subarray(r.start, r.end).toString('base64');
  }

  text(r: { start: number; end: number }): string {
    return this.buf.toString('utf8', r.start, r.end);
  }
}

type Json = Record<string, unknown>;

/** Each (field number, wire type, offset) of a message, in order. */
function* fields(r: Reader, path: string): Generator<{ num: number; wire: number; at: number }> {
  while (!r.done) {
    const at = r.at();
    const key = r.count(path || 'the object', 'a field key');
    const num = Math.floor(key / 8);
    if (num < 1) throw new ProtobufError(`${path || 'the object'}: field number 0 at offset ${at}`);
    yield { num, wire: key % 8, at };
  }
}

function expectWire(wire: number, want: number, what: string, at: number): void {
  if (wire !== want)
    throw new ProtobufError(
      `${what} (at offset ${at}): wire type ${wire}, where its type is ${want === WIRE_LEN ? 'length-delimited (2)' : 'a varint (0)'}`,
    );
}

/** A Go int32/int64 from its varint (negatives are 10-byte two's complement). */
const toInt = (v: bigint) => Number(BigInt.asIntN(64, v));

/** meta/v1 Time and MicroTime: seconds and nanos since the epoch, as the JSON's RFC 3339 text. */
function time(r: Reader, path: string, micro: boolean): string | undefined {
  let seconds = 0;
  let nanos = 0;
  for (const f of fields(r, path)) {
    if (f.num === 1 || f.num === 2) {
      expectWire(f.wire, WIRE_VARINT, `${path}.${f.num === 1 ? 'seconds' : 'nanos'}`, f.at);
      const v = toInt(r.varint(path));
      if (f.num === 1) seconds = v;
      else nanos = v;
    } else r.skip(f.wire, path);
  }
  if (!seconds && !nanos) return undefined;
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new ProtobufError(`${path}: ${seconds} seconds is not a time JSON can hold`);
  const iso = date.toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** IntOrString: {type 0: intVal | 1: strVal}; the zero value is left out, as the API's defaulting treats it as unset. */
function intOrString(r: Reader, path: string): number | string | undefined {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  for (const f of fields(r, path)) {
    if (f.num === 3) {
      expectWire(f.wire, WIRE_LEN, `${path}.strVal`, f.at);
      strVal = r.text(r.bytes(path));
    } else if (f.num === 1 || f.num === 2) {
      expectWire(f.wire, WIRE_VARINT, `${path}.${f.num === 1 ? 'type' : 'intVal'}`, f.at);
      const v = toInt(r.varint(path));
      if (f.num === 1) type = v;
      else intVal = v;
    } else r.skip(f.wire, path);
  }
  if (type === 1) return strVal || undefined;
  if (type !== 0) throw new ProtobufError(`${path}: IntOrString type ${type} (0 is an int, 1 a string)`);
  return intVal || undefined;
}

/** Quantity's message: {string = 1}. */
function quantity(r: Reader, path: string): string | undefined {
  let s: string | undefined;
  for (const f of fields(r, path)) {
    if (f.num === 1) {
      expectWire(f.wire, WIRE_LEN, path, f.at);
      s = r.text(r.bytes(path));
    } else r.skip(f.wire, path);
  }
  return s || undefined;
}

/** A map entry: key = 1, value = 2. */
function mapEntry(r: Reader, path: string, value: (r: Reader, path: string) => unknown): [string, unknown] {
  let key = '';
  let val: unknown;
  let seen = false;
  for (const f of fields(r, path)) {
    if (f.num === 1) {
      expectWire(f.wire, WIRE_LEN, `${path} (a map key)`, f.at);
      key = r.text(r.bytes(path));
    } else if (f.num === 2) {
      expectWire(f.wire, WIRE_LEN, `${path}[${key}]`, f.at);
      val = value(r.sub(r.bytes(path)), `${path}[${key}]`);
      seen = true;
    } else r.skip(f.wire, path);
  }
  return [key, seen ? val : value(r.sub({ start: 0, end: 0 }), path)];
}

/** One field's value (one element of a repeated field); undefined for the zero value JSON's omitempty leaves out. */
function value(r: Reader, wire: number, type: FieldType, path: string, at: number): unknown {
  switch (type) {
    case 'int':
    case 'bool': {
      expectWire(wire, WIRE_VARINT, path, at);
      const v = r.varint(path);
      if (type === 'bool') return v ? true : undefined;
      return toInt(v) || undefined;
    }
    case 'string':
      expectWire(wire, WIRE_LEN, path, at);
      return r.text(r.bytes(path));
    case 'bytes':
      expectWire(wire, WIRE_LEN, path, at);
      return r.base64(r.bytes(path));
  }
  expectWire(wire, WIRE_LEN, path, at);
  const sub = r.sub(r.bytes(path));
  switch (type) {
    case 'time':
    case 'microTime':
      return time(sub, path, type === 'microTime');
    case 'intOrString':
      return intOrString(sub, path);
    case 'quantity':
      return quantity(sub, path);
    case 'opaque':
      return sub.done ? undefined : {};
    default: {
      const o = message(sub, type, path);
      return Object.keys(o).length ? o : undefined;
    }
  }
}

/** A message as JSON, by its field table; fields the table does not know are skipped (as JSON's unknown keys). */
function message(r: Reader, name: string, path: string): Json {
  const table = MESSAGES[name] ?? {};
  const out: Json = {};
  for (const f of fields(r, path)) {
    const field = table[f.num];
    if (!field) {
      r.skip(f.wire, `${path || name} field ${f.num}`);
      continue;
    }
    const [key, type, repeated] = field;
    const at = key === '' ? path : path ? `${path}.${key}` : key;
    if (type === 'map' || type === 'quantityMap' || type === 'opaqueMap') {
      expectWire(f.wire, WIRE_LEN, at, f.at);
      const [k, v] = mapEntry(r.sub(r.bytes(at)), at, (s, p) =>
        type === 'map' ? s.rest() : type === 'quantityMap' ? quantity(s, p) : {},
      );
      ((out[key] ??= {}) as Json)[k] = v;
      continue;
    }
    if (repeated) {
      const list = (out[key] ??= []) as unknown[];
      const v = value(r, f.wire, type, `${at}[${list.length}]`, f.at);
      // an element is kept even when empty: its place in the list counts
      list.push(v ?? (type === 'string' ? '' : type === 'int' ? 0 : type === 'bool' ? false : {}));
      continue;
    }
    let v = value(r, f.wire, type, at, f.at);
    if (v === undefined && KEEP_ZERO.has(`${name}.${key}`)) v = type === 'bool' ? false : 0;
    if (key === '') Object.assign(out, v);
    else if (v === undefined || v === '') delete out[key];
    else out[key] = v;
  }
  return out;
}

/**
 * A protobuf request body as the JSON object the JSON path reads: the envelope's apiVersion and kind, then
 * the object's fields. Throws ProtobufError for a body that is not well-formed (what, where) or a kind with no table.
 */
export function decodeProtobufBody(body: Buffer): Json {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC))
    throw new ProtobufError(
      `the body does not start with Kubernetes' protobuf magic "k8s\\0" (it starts with ${body.subarray(0, 8).toString('hex') || 'nothing'})`,
    );
  const r = new Reader(body, MAGIC.length, body.length, 0);
  let apiVersion = '';
  let kind = '';
  let raw: { start: number; end: number } | undefined;
  for (const f of fields(r, 'runtime.Unknown')) {
    if (f.num === 1) {
      expectWire(f.wire, WIRE_LEN, 'runtime.Unknown.typeMeta', f.at);
      const tm = r.sub(r.bytes('runtime.Unknown.typeMeta'));
      for (const g of fields(tm, 'typeMeta')) {
        if (g.num === 1 || g.num === 2) {
          expectWire(g.wire, WIRE_LEN, `typeMeta.${g.num === 1 ? 'apiVersion' : 'kind'}`, g.at);
          const s = tm.text(tm.bytes('typeMeta'));
          if (g.num === 1) apiVersion = s;
          else kind = s;
        } else tm.skip(g.wire, 'typeMeta');
      }
    } else if (f.num === 2) {
      expectWire(f.wire, WIRE_LEN, 'runtime.Unknown.raw', f.at);
      raw = r.bytes('runtime.Unknown.raw');
    } else if (f.num === 3) {
      expectWire(f.wire, WIRE_LEN, 'runtime.Unknown.contentEncoding', f.at);
      const enc = r.text(r.bytes('runtime.Unknown.contentEncoding'));
      if (enc) throw new ProtobufError(`runtime.Unknown.contentEncoding is "${enc}": only unencoded bodies are read`);
    } else r.skip(f.wire, 'runtime.Unknown');
  }
  if (!kind) throw new ProtobufError("runtime.Unknown has no typeMeta.kind: the object's kind is not known");
  if (!(PROTOBUF_KINDS as readonly string[]).includes(kind))
    throw new UnreadKindError(
      `the lab's API server reads protobuf bodies of ${PROTOBUF_KINDS.join(', ')}, not ${kind} (${apiVersion || 'no apiVersion'}): send it as JSON`,
    );
  const object = raw ? message(r.sub(raw), kind, '') : {};
  return { apiVersion, kind, ...object };
}

/** A well-formed body of a kind the server has no protobuf table for. */
export class UnreadKindError extends Error {}
