// The status bar: the world's state, each node's NetworkReady (as kubelet sees it from CRI Status),
// the control plane's state, and whether the renderer is connected to the engine.
import type { WorldStatus } from '../../src-main/api/contract.ts';
import { useAppState } from '../state/context.ts';

/** The world's control plane (etcd, the API server, the loops): starting in the background, ready, or why not. */
function ControlPlaneItem({ cp }: { cp: NonNullable<WorldStatus['controlPlane']> }) {
  const where = `etcd ${cp.etcd} · API server ${cp.apiServer} (kubectl in every node reaches it)`;
  const tip =
    cp.state === 'failed'
      ? `${cp.error ?? 'the control plane could not start'} · ${where}`
      : cp.state === 'starting'
        ? `Starting etcd, the API server, the scheduler and the kubelet's watch · ${where}`
        : `Ready: ${where}`;
  const pill = cp.state === 'ready' ? 'pill-ok' : cp.state === 'failed' ? 'pill-bad' : 'pill-wait';
  return (
    <span
      className={`pill ${pill} pill-cp`}
      data-testid="control-plane-state"
      data-state={cp.state}
      title={tip}
      aria-label={`Control plane ${cp.state}: ${tip}`}
      aria-live="polite"
    >
      <span className="dot" aria-hidden="true" />
      control plane {cp.state === 'starting' ? 'starting…' : cp.state}
    </span>
  );
}

export function StatusBar() {
  const world = useAppState((s) => s.world);
  const busy = useAppState((s) => s.worldBusy);
  const connection = useAppState((s) => s.connection);
  const detail = useAppState((s) => s.connectionDetail);
  return (
    <footer className="statusbar" data-testid="status-bar" aria-label="Status">
      <span className="status-item" aria-live="polite">
        World:{' '}
        <strong data-testid="world-state" data-state={world.state}>
          {world.state}
        </strong>
        {busy && world.state !== 'starting' && world.state !== 'stopping' ? (
          <span className="muted"> ({busy}…)</span>
        ) : null}
        {connection !== 'connected' ? <span className="muted"> (last known)</span> : null}
      </span>
      <span className="pills" role="list" aria-label="Nodes">
        {world.nodes.map((n) => {
          const ready = n.networkReady.status;
          const tip = ready
            ? `${n.name}: NetworkReady — pod CIDR ${n.podCidr}, underlay ${n.underlayIp}, loopback ${n.loopback}, runtime ${n.runtime ?? 'model'}`
            : `${n.name}: NetworkReady=false — ${n.networkReady.reason}${n.networkReady.message ? `: ${n.networkReady.message}` : ''}` +
              (n.lastCNILoadStatus && n.lastCNILoadStatus !== 'OK'
                ? ` · containerd's log (crictl info, lastCNILoadStatus): ${n.lastCNILoadStatus}`
                : '');
          return (
            <span
              key={n.name}
              role="listitem"
              className={`pill ${ready ? 'pill-ok' : 'pill-bad'}`}
              data-testid={`node-pill-${n.name}`}
              data-ready={ready}
              title={tip}
              aria-label={tip}
            >
              <span className="dot" aria-hidden="true" />
              {n.name} {ready ? 'Ready' : 'NotReady'}
              {n.runtime && n.runtime !== 'model' ? (
                <span className="pill-runtime" data-testid={`node-runtime-${n.name}`}>
                  {' '}
                  · {n.runtime}
                </span>
              ) : null}
            </span>
          );
        })}
      </span>
      {world.controlPlane ? <ControlPlaneItem cp={world.controlPlane} /> : null}
      <span className="spacer" />
      <span className={`status-item connection connection-${connection}`} title={detail}>
        <span className="dot" aria-hidden="true" />
        <span data-testid="connection-state" aria-live="polite">
          {connection}
        </span>
        {/* why the host let go of this page (it stopped reading, say), in words, not only in the tooltip */}
        {connection === 'disconnected' && detail.includes('disconnected this page') ? (
          <span className="muted" data-testid="connection-detail">
            {' '}
            — {detail}
          </span>
        ) : null}
      </span>
    </footer>
  );
}
