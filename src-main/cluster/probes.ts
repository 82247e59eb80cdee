// The kubelet's readiness prober (pkg/kubelet/prober): one worker per container with a readinessProbe. It
// probes at once, then every periodSeconds (nothing before initialDelaySeconds since the container
// started); a result becomes the container's readiness after successThreshold successes or
// failureThreshold failures in a row; until the first success the container is not ready. httpGet and
// tcpSocket go from the node's network namespace to the pod's IP, exec runs in the container (CRI ExecSync).
import type { Kubelet, Pod } from '../runtime/kubelet.js';
import type { RunningContainer } from '../runtime/cri-runtime.js';
import { httpGet, tcpDial } from '../runtime/node-dial.js';

/** A probe as the API gives it, with the defaults the API server fills in. */
export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The API's probe defaults (pkg/apis/core/v1/defaults.go SetDefaults_Probe). */
export const PROBE_DEFAULTS = {
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

/** The probe handlers this lab's kubelet runs. */
export const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'exec'] as const;

/** A probe's port: a number, or the name of one of the container's ports. */
export function probePort(port: number | string, ports: { name?: string; containerPort: number }[] = []): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = ports.find((p) => p.name === port);
  if (!named) throw new Error(`port "${port}" is not one of the container's named ports`);
  return named.containerPort;
}

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

/** One probe, run now (prober.go runProbe). */
export async function runProbe(
  kubelet: Kubelet,
  pod: Pod,
  container: RunningContainer,
  probe: Probe,
  ports: { name?: string; containerPort: number }[],
): Promise<ProbeOutcome> {
  const node = pod.spec.node;
  if (probe.exec) {
    const r = await kubelet.cri(node).execSync(container.id, probe.exec.command, probe.timeoutSeconds);
    if (r.timedOut) return { ok: false, message: `command "${probe.exec.command.join(' ')}" timed out` };
    return { ok: r.exitCode === 0, message: (r.stdout + r.stderr).trim() };
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    return httpGet(kubelet.world, node, {
      host: g.host || pod.ip,
      port: probePort(g.port, ports),
      ...(g.path ? { path: g.path } : {}),
      ...(g.httpHeaders ? { headers: g.httpHeaders } : {}),
      timeoutSeconds: probe.timeoutSeconds,
    });
  }
  if (probe.tcpSocket) {
    const t = probe.tcpSocket;
    return tcpDial(kubelet.world, node, t.host || pod.ip, probePort(t.port, ports), probe.timeoutSeconds);
  }
  return { ok: false, message: 'the probe names no handler (httpGet, tcpSocket or exec)' };
}

/** A readiness worker (prober/worker.go): its result is the container's readiness. */
export class ReadinessWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastResult: boolean | undefined;
  private resultRun = 0;
  /** The result as set for the container (false until the first success is counted). */
  ready = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly kubelet: Kubelet,
    private readonly pod: Pod,
    private readonly container: RunningContainer,
    private readonly probe: Probe,
    private readonly ports: { name?: string; containerPort: number }[],
    /** The container's readiness changed. */
    private readonly onChange: (ready: boolean) => void,
    /** A probe failed (the kubelet records Unhealthy for each). */
    private readonly onFailure: (message: string) => void,
  ) {}

  start(): void {
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private tick(): void {
    if (this.stopped) return;
    const next = () => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.probe.periodSeconds * 1000);
    };
    // disabled for initialDelaySeconds after the container started
    if ((Date.now() - this.startedAt) / 1000 < this.probe.initialDelaySeconds) return next();
    void runProbe(this.kubelet, this.pod, this.container, this.probe, this.ports)
      .catch((e: Error): ProbeOutcome => ({ ok: false, message: e.message }))
      .then((r) => {
        if (this.stopped) return;
        if (!r.ok) this.onFailure(r.message);
        this.count(r.ok);
      })
      .finally(next);
  }

  /** successThreshold / failureThreshold: a result counts once it has come that many times in a row. */
  private count(ok: boolean): void {
    if (this.lastResult === ok) this.resultRun++;
    else {
      this.lastResult = ok;
      this.resultRun = 1;
    }
    const needed = ok ? this.probe.successThreshold : this.probe.failureThreshold;
    if (this.resultRun < needed || this.ready === ok) return;
    this.ready = ok;
    this.onChange(ok);
  }
}
