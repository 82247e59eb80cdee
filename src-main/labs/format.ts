// The lab format: lab.yaml (metadata, the starting world, the steps' files) and the blocks a step's
// Markdown may hold (checks, questions). One zod source: the loader validates with it, and
// resources/lab.schema.json (for editors and the linter) is generated from it (scripts/lab-schema.mjs).
import { z } from 'zod';
import {
  bandwidthFromAnnotations,
  EGRESS_BANDWIDTH_ANNOTATION,
  INGRESS_BANDWIDTH_ANNOTATION,
} from '../cni/capability-args.js';

const nodeName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,9}$/, 'a node name: a lowercase letter, then up to 9 lowercase letters or digits');
const podName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a pod name: a DNS label (lowercase letters, digits and "-")');

/** Where a check looks: `node1` (the node), `node1/demo` (netns demo pinned on node1), `pod/web` (a pod's netns). */
export const NsRef = z
  .string()
  .regex(
    /^([a-z][a-z0-9]{0,9}(\/[A-Za-z0-9_.-]{1,64})?|pod\/[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/,
    'a namespace: "node1", "node1/NETNS" (pinned in node1\'s /run/netns) or "pod/NAME"',
  );

const cniConfig = z.union([
  z
    .enum(['default', 'none'])
    .describe(
      "default: bridge (cni0, host-local IPAM on the node's pod CIDR 10.244.<i>.0/24) then portmap; none: no config (the node is NotReady)",
    ),
  z
    .object({
      file: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+\.(conf|conflist|json)$/, 'a config file name ending in .conf, .conflist or .json'),
      content: z
        .union([z.string(), z.record(z.string(), z.unknown())])
        .optional()
        .describe("the file's text, or a JSON object"),
      from: z.string().optional().describe('a file in the lab folder to copy'),
    })
    .strict(),
]);

const k8sNamespace = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace: a DNS label (lowercase letters, digits and "-")');

const portNumber = (what: string) =>
  z
    .number()
    .int(`${what} is a whole port number, 1 to 65535`)
    .min(1, `${what} is a port number, 1 to 65535`)
    .max(65535, `${what} is a port number, 1 to 65535`);

/** A container's port, as in a Kubernetes pod spec: a hostPort becomes a portMappings capability arg (portmap). */
export const LabPort = z
  .object({
    containerPort: portNumber('containerPort').describe('the port the container listens on'),
    hostPort: portNumber('hostPort')
      .optional()
      .describe("the node's port that portmap forwards to containerPort (containerd passes it as portMappings)"),
    protocol: z
      .enum(['TCP', 'UDP', 'SCTP'], 'protocol is TCP, UDP or SCTP (upper case, as Kubernetes writes it)')
      .optional()
      .describe('default TCP'),
    hostIP: z
      .string()
      .regex(/^[0-9]{1,3}(\.[0-9]{1,3}){3}$|^[0-9a-fA-F:]+$/, 'hostIP is an IP address of the node, such as 192.0.2.11')
      .optional()
      .describe("the node's address the hostPort is on (default: all)"),
  })
  .strict();
export type LabPort = z.infer<typeof LabPort>;

const annotationKey = z
  .string()
  .max(316)
  .regex(
    /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    'an annotation key: an optional DNS prefix and "/", then a name (letters, digits, "-", "_", ".")',
  );

/** containerd 2.1 reads these two annotations as the bandwidth capability arg (bits per second). */
const BANDWIDTH_ANNOTATIONS = [INGRESS_BANDWIDTH_ANNOTATION, EGRESS_BANDWIDTH_ANNOTATION];

/** The fields a pod has besides its name and node: in lab.yaml's pods and after `syncPod NAME NODE`. */
const podFields = {
  namespace: k8sNamespace
    .optional()
    .describe("the pod's namespace (default: default); it sets the first search domain"),
  containers: z
    .array(
      z
        .object({
          name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a container name: a DNS label'),
          command: z
            .array(z.string().min(1))
            .min(1)
            .optional()
            .describe('argv: a command the host has, run in the pod (default: busybox httpd on :80)'),
          ports: z
            .array(LabPort)
            .optional()
            .describe("the container's ports; one with a hostPort is published by portmap"),
        })
        .strict(),
    )
    .min(1)
    .optional()
    .describe("the pod's containers (default: one busybox httpd on :80)"),
  annotations: z
    .record(annotationKey, z.string('an annotation value is a string: quote a number ("100M", "8080")'))
    .optional()
    .describe(
      'pod annotations; containerd passes them all to the plugins, and kubernetes.io/ingress-bandwidth and egress-bandwidth (bits per second: 10M, 1Gi) as the bandwidth capability arg',
    ),
  hostNetwork: z
    .boolean()
    .optional()
    .describe(
      "the node's own network: no netns, no CNI ADD; the kubelet starts it even while the network is not ready",
    ),
  dnsPolicy: z
    .enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'])
    .optional()
    .describe("how kubelet makes the pod's resolv.conf (default: ClusterFirst)"),
  dnsConfig: z
    .object({
      nameservers: z
        .array(z.string().regex(/^[0-9.]+$|^[0-9a-fA-F:]+$/, 'an IP address'))
        .max(3)
        .optional(),
      searches: z
        .array(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a DNS domain'))
        .max(32)
        .optional(),
      options: z.array(z.object({ name: z.string().min(1), value: z.string().optional() }).strict()).optional(),
    })
    .strict()
    .optional()
    .describe('added to what dnsPolicy gives (with None, all of it)'),
};

type PodFields = z.infer<z.ZodObject<typeof podFields>>;

/** Rules across fields, with Kubernetes' and containerd's own wording of what they refuse. */
function podRules(p: PodFields, ctx: z.RefinementCtx): void {
  if (p.dnsPolicy === 'None' && !p.dnsConfig)
    ctx.addIssue({ code: 'custom', message: 'dnsPolicy None needs a dnsConfig', path: ['dnsPolicy'] });
  for (const key of BANDWIDTH_ANNOTATIONS) {
    const v = p.annotations?.[key];
    if (v === undefined) continue;
    try {
      bandwidthFromAnnotations({ [key]: v });
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        message: `"${v}" is not a bandwidth containerd accepts (${(e as Error).message}): write bits per second as a Kubernetes quantity, 1k to 1P, such as 10M or 1Gi`,
        path: ['annotations', key],
      });
    }
  }
  const seen = new Map<string, string>();
  p.containers?.forEach((c, ci) =>
    c.ports?.forEach((port, pi) => {
      const at = ['containers', ci, 'ports', pi];
      if (p.hostNetwork && port.hostPort !== undefined && port.hostPort !== port.containerPort)
        ctx.addIssue({
          code: 'custom',
          message: `with hostNetwork a hostPort must equal its containerPort (${port.containerPort}), as Kubernetes requires`,
          path: [...at, 'hostPort'],
        });
      if (port.hostPort === undefined) return;
      const k = `${port.hostPort}/${port.protocol ?? 'TCP'}/${port.hostIP ?? ''}`;
      if (seen.has(k))
        ctx.addIssue({
          code: 'custom',
          message: `hostPort ${port.hostPort}/${port.protocol ?? 'TCP'} is already published by container ${seen.get(k)}`,
          path: [...at, 'hostPort'],
        });
      seen.set(k, c.name);
    }),
  );
}

/** A pod the world starts with: where it runs, and (optionally) its containers, ports, annotations and DNS settings. */
export const LabPod = z
  .object({ name: podName, node: nodeName, ...podFields })
  .strict()
  .superRefine(podRules);
export type LabPod = z.infer<typeof LabPod>;

/** What may follow `syncPod NAME NODE` on a kubelet line: the same fields, as a YAML flow mapping. */
export const KubeletPodFields = z.object(podFields).strict().superRefine(podRules);
export type KubeletPodFields = z.infer<typeof KubeletPodFields>;

/** Time limits for what a lab runs in its world: defaults, and the most a lab may ask for (seconds). */
export const TIME_LIMITS = {
  prepare: { default: 60, max: 600 },
  script: { default: 15, max: 120 },
} as const;

export const TimeLimits = z
  .object({
    prepare: z
      .number()
      .int()
      .min(1)
      .max(TIME_LIMITS.prepare.max)
      .default(TIME_LIMITS.prepare.default)
      .describe(
        `seconds each prepare command may run before it is stopped and the lab fails to open (at most ${TIME_LIMITS.prepare.max})`,
      ),
    script: z
      .number()
      .int()
      .min(1)
      .max(TIME_LIMITS.script.max)
      .default(TIME_LIMITS.script.default)
      .describe(`seconds each script check may run before it is stopped and fails (at most ${TIME_LIMITS.script.max})`),
  })
  .strict();
export type TimeLimits = z.infer<typeof TimeLimits>;

export const PrepareCommand = z
  .object({
    on: z.union([nodeName, z.literal('sandbox')]).describe('the node the command runs on'),
    run: z.string().min(1).describe('a shell script (sh -e)'),
  })
  .strict();

export const LabFile = z
  .object({
    title: z.string().min(1),
    summary: z.string().min(1),
    level: z.enum(['beginner', 'intermediate', 'advanced']),
    duration: z.number().int().min(1).max(600).describe('minutes'),
    tags: z.array(z.string()).default([]),
    prerequisites: z.array(z.string()).default([]).describe('ids (folder names) of labs to do first'),
    world: z
      .object({
        nodes: z
          .union([z.number().int().min(1).max(8), z.array(nodeName).min(1).max(8)])
          .describe('how many nodes (node1..N), or their names'),
        loopback: z
          .enum(['internal', 'plugin'])
          .default('plugin')
          .describe(
            "plugin: the loopback CNI plugin as a network of its own (containerd's default); internal: containerd 2.x's opt-in use_internal_loopback = true",
          ),
        loopbacks: z
          .record(nodeName, z.enum(['internal', 'plugin']))
          .default({})
          .describe('per-node loopback modes, overriding loopback'),
        runtime: z
          .enum(['model', 'containerd'])
          .default('model')
          .describe(
            "model: the lab's step-by-step model of containerd 2.1 (step-through, faults); containerd: the real containerd 2.1.9 on each node",
          ),
        runtimes: z
          .record(nodeName, z.enum(['model', 'containerd']))
          .default({})
          .describe('per-node runtimes, overriding runtime (a model node beside a real one)'),
        controlPlane: z
          .boolean()
          .default(false)
          .describe(
            "true: the world has the control plane (etcd, the lab's API server, the scheduler, the kubelet's watch), started in the background, so kubectl works in every node; false: a bare-kernel world without one",
          ),
        cni: cniConfig.default('default').describe('the CNI config every node gets'),
        configs: z.record(nodeName, cniConfig).default({}).describe('per-node CNI configs, overriding cni'),
        pods: z
          .array(LabPod)
          .default([])
          .describe('pods created (kubelet syncPod) once the world is up, in order on each node'),
        prepare: z.array(PrepareCommand).default([]).describe('commands run after the pods, in order'),
        timeLimits: TimeLimits.default({
          prepare: TIME_LIMITS.prepare.default,
          script: TIME_LIMITS.script.default,
        }).describe('how long a prepare command and a script check may run'),
      })
      .strict(),
    steps: z.array(z.string().regex(/^[A-Za-z0-9_./-]+\.md$/, 'a Markdown file in the lab folder')).min(1),
  })
  .strict();
export type LabFile = z.infer<typeof LabFile>;

const where = { in: NsRef.describe('the namespace to look in') };
const title = {
  title: z.string().optional().describe('what the reader sees (default: generated)'),
  id: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
};

/** The check vocabulary: the one key of CHECK_KINDS an item has names its kind. */
export const CHECK_SCHEMAS = {
  link: z
    .object({
      ...title,
      link: z.string().min(1).describe('interface name'),
      ...where,
      state: z
        .enum(['UP', 'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN'])
        .optional()
        .describe('operstate (lo that is up reports UNKNOWN)'),
      up: z.boolean().optional().describe('administratively up (the UP flag), or down with false'),
      kind: z.string().optional().describe('veth, bridge, vxlan, …'),
      master: z.string().optional(),
      peer: NsRef.optional().describe('a veth whose other end is in this namespace'),
      absent: z.boolean().optional(),
    })
    .strict(),
  address: z
    .object({
      ...title,
      address: z
        .string()
        .regex(/^[0-9.]+\/\d{1,2}$/, 'an IPv4 subnet such as 10.244.1.0/24')
        .describe('an IPv4 address in this subnet'),
      ...where,
      dev: z.string().optional(),
      absent: z.boolean().optional(),
    })
    .strict(),
  route: z
    .object({
      ...title,
      route: z.string().min(1).describe('destination, as ip prints it: default, 10.244.2.0/24'),
      ...where,
      via: z.string().optional(),
      dev: z.string().optional(),
      absent: z.boolean().optional(),
    })
    .strict(),
  ping: z
    .object({
      ...title,
      ping: z.string().min(1).describe("an IPv4 address, or pod/NAME for that pod's IP"),
      from: NsRef,
      fails: z.boolean().optional().describe('the ping must fail'),
    })
    .strict(),
  file: z
    .object({
      ...title,
      file: z.string().regex(/^\//, 'an absolute path'),
      on: nodeName,
      contains: z.string().optional(),
      absent: z.boolean().optional(),
    })
    .strict(),
  'pod-ready': z.object({ ...title, 'pod-ready': podName }).strict(),
  'node-ready': z.object({ ...title, 'node-ready': nodeName, ready: z.boolean().optional() }).strict(),
  'no-veth': z.object({ ...title, 'no-veth': nodeName.describe('no veth left on this node') }).strict(),
  script: z
    .object({
      ...title,
      script: z.string().min(1).describe('sh -e; exit 0 passes; its output explains a failure'),
      ...where,
    })
    .strict(),
} as const;
export type CheckKind = keyof typeof CHECK_SCHEMAS;
export const CHECK_KINDS = Object.keys(CHECK_SCHEMAS) as CheckKind[];
export const CheckSpec = z.union(
  Object.values(CHECK_SCHEMAS) as unknown as [z.ZodTypeAny, z.ZodTypeAny, ...z.ZodTypeAny[]],
);
export type CheckSpecOf<K extends CheckKind> = z.infer<(typeof CHECK_SCHEMAS)[K]>;
export type CheckSpec = { [K in CheckKind]: CheckSpecOf<K> }[CheckKind];

export const QuestionSpec = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    ask: z.string().min(1),
    answer: z.union([
      z.string().describe('a fixed answer (compared without case or surrounding spaces)'),
      z.object({ 'pod-ip': podName }).strict().describe("the pod's IP, as the world has it"),
      z
        .object({ script: z.string().min(1), in: NsRef })
        .strict()
        .describe("the script's trimmed output"),
    ]),
  })
  .strict();
export type QuestionSpec = z.infer<typeof QuestionSpec>;

// ---- tool directives (a ```tools block in a step): what the step opens and points the app's tools at ----
export const TOOL_NAMES = ['terminal', 'timeline', 'topology', 'editor', 'views'] as const;
export const VIEW_TABLES = ['links', 'addrs', 'routes', 'neighs', 'fdb'] as const;
/** The tools a step opens and points when it is shown; each block is one directive, one or more keys. */
export const ToolDirective = z
  .object({
    open: z
      .string()
      .regex(
        /^(timeline|topology|editor|views|terminal( ([a-z][a-z0-9]{0,9}|pod\/[a-z0-9]([-a-z0-9]*[a-z0-9])?))?)$/,
        'open: timeline, topology, editor, views, or terminal NODE / terminal pod/NAME',
      )
      .optional()
      .describe('a tool to open beside the terminals (timeline, topology, editor), the live views, or a terminal'),
    view: z
      .string()
      .regex(
        /^\S+( (links|addrs|routes|neighs|fdb))?$/,
        'view: a namespace and a table, such as "node1 routes" (links, addrs, routes, neighs, fdb)',
      )
      .optional()
      .describe('the live views show this namespace (node1, node1/NETNS, pod/NAME, sandbox), on this table'),
    edit: z
      .string()
      .regex(
        /^[a-z][a-z0-9]{0,9}:\/etc\/cni\/net\.d\/[A-Za-z0-9_.-]+\.(conf|conflist|json)$/,
        'edit: NODE:/etc/cni/net.d/FILE, such as node1:/etc/cni/net.d/10-podnet.conflist',
      )
      .optional()
      .describe('the CNI editor opens this file of this node'),
    follow: NsRef.optional().describe('the live views follow this namespace (a pod: as soon as it exists)'),
  })
  .strict()
  .refine((d) => Object.keys(d).length > 0, 'a tools block names open, view, edit or follow');
export type ToolDirective = z.infer<typeof ToolDirective>;
// ---- end tool directives ----

/** A command block: where it runs, and its lines. `kubelet` blocks hold syncPod/killPod lines. */
export interface CommandBlock {
  /** A terminal: a node name or pod/NAME; or "kubelet". */
  target: string;
  text: string;
  /** copy only: not clickable to run. */
  copyOnly: boolean;
  line: number;
  /** ```run node1 fails: the block shows a failure on purpose (lab test requires a command of it to fail). */
  fails?: boolean;
}

export interface Check {
  id: string;
  kind: CheckKind;
  title: string;
  spec: CheckSpec;
  line: number;
}

export interface Hint {
  text: string;
  /** Shown only while this check fails. */
  whenFailing?: string;
  line: number;
}

export interface Step {
  index: number;
  file: string;
  title: string;
  /** The step's Markdown in order: prose, and the command blocks (index into commands) where they stand. */
  body: ({ kind: 'markdown'; text: string } | { kind: 'command'; index: number } | { kind: 'tools'; index: number })[];
  commands: CommandBlock[];
  checks: Check[];
  hints: Hint[];
  solution: CommandBlock[];
  questions: (QuestionSpec & { line: number })[];
  /** ```tools blocks, in order (the body says where each stands). */
  tools: (ToolDirective & { line: number })[];
}

export interface Lab {
  id: string;
  dir: string;
  meta: Omit<LabFile, 'world' | 'steps'>;
  world: LabFile['world'];
  /** node name → its CNI config file (name and text), or undefined for none. */
  configs: Record<string, { file: string; text: string } | undefined>;
  nodeNames: string[];
  steps: Step[];
}

export interface LintError {
  file: string;
  line: number;
  message: string;
}

export const formatLintError = (e: LintError) => `${e.file}:${e.line}: ${e.message}`;

/**
 * A kubelet line: `syncPod NAME NODE`, optionally followed by the pod's other fields as a YAML flow
 * mapping (`{hostNetwork: true}`, `{annotations: {…}, containers: [{name: web, ports: […]}]}`), or `killPod NAME`.
 */
export const KUBELET_LINE =
  /^(?:syncPod\s+([a-z0-9][-a-z0-9]*)\s+([a-z][a-z0-9]*)(?:\s+(\{.*\}))?|killPod\s+([a-z0-9][-a-z0-9]*))\s*$/;
