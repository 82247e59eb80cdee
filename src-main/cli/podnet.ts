// podnet: the command line of Podnet Lab.
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

// Each command's modules are loaded when it runs: `podnet lab lint` need not load the runtime and the world.
const HELP = `podnet — the Kubernetes pod network lifecycle, for real, on your machine

Usage:
  podnet doctor                 check that this machine can run a lab world, with the fix for each problem
  podnet trace [options]        run the pod network lifecycle in a fresh world and print its trace
      --nodes N                 nodes in the world (default 1)
      --pods N                  pods to create and delete (default 1), spread over the nodes
      --config FILE             a CNI config (.conf/.conflist) for every node (default: bridge with host-local IPAM, then portmap)
      --loopback plugin|internal  the loopback CNI plugin (containerd 2.x default), or use_internal_loopback (default plugin)
      --runtime model|containerd  the model of containerd 2.1 (default), or the real containerd 2.1.9 on each node
      --json                    print the trace and results as JSON
      --vm                      run it inside the bundled VM (its own kernel; podnet vm build first), under QEMU
  podnet cni add|check|del [--net NAME | --conf FILE] [--id ID] [--ifname IF] [--args K=V;..] [--cap-args JSON] [-v] NETNS
  podnet cni version TYPE...    run a node's CNI config by hand, as cnitool does (in a node's terminal)
  podnet cni lint FILE...       check CNI configs (schema and semantics) as the editor and the engine do:
                                file:line:col: warning: what containerd does; exit status 1 when containerd
                                cannot load a file or its ADD will fail, 0 when only advice; on a node it also
                                checks plugin binaries, their VERSION and which file is picked
  podnet lab lint DIR...        check lab folders: every mistake as file:line: message
  podnet lab test [--json] DIR...  prove labs: every step's checks fail before its solution and pass after,
                                and every Run block, clicked in order from the step's start, works; --json for CI
  podnet lab shell DIR [--at N] [--on NODE|pod/NAME]
                                a shell in the lab's world at step N (the solutions of steps 1…N-1 applied),
                                on its first node unless --on says; the world ends when the shell exits
  podnet lab new NAME           scaffold a lab folder
  podnet cluster [--nodes N] [--on NODE] [--proxy-mode iptables|nftables] [-- COMMAND...]
                                a world with its control plane (the real etcd, the lab's API server, the real
                                kubectl 1.36 on every node): runs COMMAND on node1 (or --on), or opens a shell there;
                                kube-proxy writes each node's rules in iptables mode (or --proxy-mode nftables)
  podnet path [--json]          follow a packet: in a preset world (2 nodes, a VXLAN overlay, a pod on each, a
                                ClusterIP Service) a ping pod → pod across nodes and a TCP request to the Service,
                                hop by hop, with what moved each on (route, neighbour, FDB, the DNAT rule)
  podnet path FROM TO [--kind ping|tcp|udp] [--port N] [--json]
                                in a node's terminal: follow one packet in the running world (FROM: pod:NAME,
                                node:NAME; TO: those, svc:NAME or ADDR[:PORT]), asked of the app's engine
  podnet workshop [--seats N] [--host ADDR] [--port P] [--labs DIR] [--state DIR] [--idle-minutes M]
                                a room on one server: each learner who joins gets a seat (their own world,
                                terminals, lab and progress); prints the join URL and the instructor's URL
  podnet workshop image [--out DIR] [--no-import]
                                the seat server's container image from Debian's packages, imported into podman
  podnet workshop front --servers URL[=PUBLIC_URL],... [--host ADDR] [--port P]
                                a cluster room's entrance: sends each join to the seat server with most free seats
  podnet vm build [--arch x86_64|arm64] [--out DIR]
                                build the bundled VM's image (Debian's kernel and packages, the app's engine):
                                for macOS, Windows and Linux hosts where worlds cannot start natively (docs/vm.md)
  podnet help
`;

function intOpt(v: string | undefined, name: string, def: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not "${v}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const out = (s: string) => process.stdout.write(s + '\n');
  const err = (s: string) => process.stderr.write(s + '\n');
  switch (cmd) {
    case 'doctor': {
      const { formatDoctor, runDoctor } = await import('../world/doctor.js');
      const checks = runDoctor();
      out(formatDoctor(checks));
      return checks.every((c) => c.ok || c.warn) ? 0 : 1;
    }
    case 'trace': {
      const { values } = parseArgs({
        args: rest,
        options: {
          nodes: { type: 'string' },
          pods: { type: 'string' },
          config: { type: 'string' },
          loopback: { type: 'string' },
          runtime: { type: 'string' },
          json: { type: 'boolean' },
          vm: { type: 'boolean' },
        },
      });
      if (values.vm) {
        // the same trace, run by the engine inside the bundled VM (docs/vm.md)
        if (values.config)
          throw new UsageError('--config cannot be used with --vm: the VM cannot read files on this host');
        const { traceInVm } = await import('./vm-command.js');
        return (await traceInVm(
          rest.filter((a) => a !== '--vm'),
          values.json ?? false,
          out,
          err,
        ))
          ? 0
          : 1;
      }
      const runtime = values.runtime ?? 'model';
      if (runtime !== 'model' && runtime !== 'containerd')
        throw new UsageError(`--runtime must be "model" or "containerd", not "${runtime}"`);
      const loopback = values.loopback ?? 'plugin';
      if (loopback !== 'internal' && loopback !== 'plugin')
        throw new UsageError(`--loopback must be "internal" or "plugin", not "${loopback}"`);
      const { traceCommand } = await import('./trace-command.js');
      const ok = await traceCommand(
        {
          nodes: intOpt(values.nodes, 'nodes', 1, 50),
          pods: intOpt(values.pods, 'pods', 1, 250),
          loopback,
          runtime,
          json: values.json ?? false,
          ...(values.config ? { configFile: values.config } : {}),
        },
        out,
      );
      return ok ? 0 : 1;
    }
    case 'cni': {
      const [verb, ...r] = rest;
      if (verb === 'lint') return (await import('./lint-command.js')).lintCommand(r, out, err);
      if (verb !== 'add' && verb !== 'check' && verb !== 'del' && verb !== 'version')
        throw new UsageError('usage: podnet cni add|check|del|version|lint …  (see podnet help)');
      const { values, positionals } = parseArgs({
        args: r,
        allowPositionals: true,
        options: {
          net: { type: 'string' },
          conf: { type: 'string' },
          id: { type: 'string' },
          ifname: { type: 'string' },
          args: { type: 'string' },
          'cap-args': { type: 'string' },
          verbose: { type: 'boolean', short: 'v' },
        },
      });
      const { cniCommand } = await import('./cni-command.js');
      return cniCommand(
        {
          verb,
          positional: positionals,
          ...(values.net ? { net: values.net } : {}),
          ...(values.conf ? { conf: values.conf } : {}),
          ...(values.id ? { id: values.id } : {}),
          ...(values.ifname ? { ifname: values.ifname } : {}),
          ...(values.args ? { args: values.args } : {}),
          ...(values['cap-args'] ? { capArgs: values['cap-args'] } : {}),
          ...(values.verbose ? { verbose: true } : {}),
        },
        out,
        err,
      );
    }
    case 'lab':
      return (await import('./lab-command.js')).labCommand(rest, out, err);
    case 'cluster':
      return (await import('./cluster-command.js')).clusterCommand(rest, out, err);
    case 'path':
      return (await import('./path-command.js')).pathCommand(rest, out, err);
    case 'workshop':
      return (await import('./workshop-command.js')).workshopCommand(rest, out, err);
    case 'vm':
      return (await import('./vm-command.js')).vmCommand(rest, out);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

/** Failures with a message for the user (by name: their modules are loaded only by the commands that throw them). */
const KNOWN = [
  'UsageError',
  'ConfigError',
  'PluginError',
  'ExecError',
  'NotSupportedError',
  'InvalidArgumentError',
  'WorldError',
  'ClusterError',
  'VmBuildError',
  'VmError',
];

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (e: unknown) => {
    // Known failures get their message; anything else is a bug and keeps its stack.
    if (
      e instanceof UsageError ||
      (e instanceof Error && KNOWN.includes(e.name)) ||
      ((e as Error)?.name === 'TypeError' && /parseArgs|Unknown option/.test(String((e as Error).message))) ||
      (e as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`podnet: ${(e as Error).message}\n`);
      // a world that cannot start: what the doctor finds, with the fix, rather than "run podnet doctor"
      const fix = (e as Error).name === 'WorldError' ? (await import('../world/doctor.js')).doctorFix() : undefined;
      if (fix) process.stderr.write(`\nThe doctor found:\n${fix}\n`);
      process.exit(2);
    }
    process.stderr.write(`podnet: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(70);
  },
);
