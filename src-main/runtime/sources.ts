// Source references for each lifecycle step, at the pinned tags (containerd v2.1.9, go-cni v1.1.13,
// libcni v1.3.0, kubelet v1.35.0), so the timeline and the CLI can point a learner at the real code.
export interface SourceRef {
  label: string;
  url: string;
}

/** What the runtime models, and at which versions: the timeline header and `podnet trace` show it. */
export const MODELLED = {
  containerd: '2.1.9',
  goCni: '1.1.13',
  libcni: '1.3.0',
  kubelet: '1.35',
  summary:
    "kubelet 1.35's SyncPod/KillPod/GC over the CRI, containerd 2.1's sandbox lifecycle and go-cni 1.1.13's Load/Status/Setup/Remove over libcni 1.3, with the real CNI plugins 1.9.1",
} as const;

/** One line for headers: "containerd 2.1.9 · go-cni 1.1.13 · libcni 1.3.0 · kubelet 1.35" (the plugins are real: world/paths.ts's pluginSet). */
export const MODELLED_LINE = `containerd ${MODELLED.containerd} · go-cni ${MODELLED.goCni} · libcni ${MODELLED.libcni} · kubelet ${MODELLED.kubelet}`;

const K8S = 'https://github.com/kubernetes/kubernetes/blob/v1.35.0/pkg/kubelet';
const CTD = 'https://github.com/containerd/containerd/blob/v2.1.9/internal/cri/server';
const GOCNI = 'https://github.com/containerd/go-cni/blob/v1.1.13';

const ref = (label: string, url: string): SourceRef => ({ label, url });

export const SOURCES = {
  syncPod: ref('kubelet v1.35 kuberuntime_manager.go SyncPod', `${K8S}/kuberuntime/kuberuntime_manager.go`),
  computePodActions: ref(
    'kubelet v1.35 kuberuntime_manager.go computePodActions (PodSandboxChanged)',
    `${K8S}/kuberuntime/kuberuntime_manager.go`,
  ),
  prepareResources: ref(
    'kubelet v1.35 kuberuntime_manager.go SyncPod: PrepareDynamicResources',
    `${K8S}/kuberuntime/kuberuntime_manager.go`,
  ),
  runPodSandbox: ref('containerd v2.1.9 sandbox_run.go#L53 RunPodSandbox', `${CTD}/sandbox_run.go#L53`),
  newNetNS: ref('containerd v2.1.9 sandbox_run.go#L204 netns.NewNetNS', `${CTD}/sandbox_run.go#L204`),
  setupPodNetwork: ref('containerd v2.1.9 sandbox_run.go#L394 setupPodNetwork', `${CTD}/sandbox_run.go#L394`),
  loopbackUp: ref(
    'containerd v2.1.9 sandbox_run.go#L407 bringUpLoopback (use_internal_loopback)',
    `${CTD}/sandbox_run.go#L407`,
  ),
  cniSetup: ref(
    'containerd v2.1.9 sandbox_run.go#L421 netPlugin.Setup (go-cni: CNI ADD)',
    `${CTD}/sandbox_run.go#L421`,
  ),
  goCniSetup: ref('go-cni v1.1.13 cni.go Setup → attachNetworks (concurrent)', `${GOCNI}/cni.go`),
  goCniLoad: ref('go-cni v1.1.13 opts.go loadFromConfDir', `${GOCNI}/opts.go`),
  setupSandboxFiles: ref(
    'containerd v2.1.9 podsandbox/sandbox_run.go#L215 setupSandboxFiles (hostname, hosts, resolv.conf)',
    `${CTD}/podsandbox/sandbox_run.go#L215`,
  ),
  startSandbox: ref(
    'containerd v2.1.9 podsandbox/sandbox_run.go#L60 Controller.Start (the pause)',
    `${CTD}/podsandbox/sandbox_run.go#L60`,
  ),
  getPodDns: ref('kubelet v1.35 network/dns/dns.go GetPodDNS', `${K8S}/network/dns/dns.go`),
  podIps: ref('containerd v2.1.9 sandbox_run.go#L431 IPs of eth0 → CNIResult', `${CTD}/sandbox_run.go#L431`),
  podSandboxStatus: ref('containerd v2.1.9 sandbox_status.go#L33 PodSandboxStatus', `${CTD}/sandbox_status.go#L33`),
  getIps: ref('containerd v2.1.9 sandbox_status.go#L91 getIPs', `${CTD}/sandbox_status.go#L91`),
  podReadyToStartContainers: ref(
    'kubelet v1.35 status: PodReadyToStartContainers (a condition, not a gate)',
    `${K8S}/status/status_manager.go`,
  ),
  statusLoop: ref('kubelet v1.35 kubelet.go updateRuntimeUp (every 5 s)', `${K8S}/kubelet.go`),
  networkReady: ref('containerd v2.1.9 status.go#L51 netPlugin.Status → NetworkReady', `${CTD}/status.go#L51`),
  goCniStatus: ref('go-cni v1.1.13 cni.go Status (ready, then STATUS)', `${GOCNI}/cni.go`),
  nodeNotReady: ref('kubelet v1.35 kubelet.go syncPod: "network is not ready"', `${K8S}/kubelet.go`),
  killPod: ref(
    'kubelet v1.35 kuberuntime_manager.go killPodWithSyncResult',
    `${K8S}/kuberuntime/kuberuntime_manager.go`,
  ),
  killContainers: ref(
    'kubelet v1.35 kuberuntime_container.go killContainersWithSyncResult',
    `${K8S}/kuberuntime/kuberuntime_container.go`,
  ),
  stopContainer: ref('containerd v2.1.9 container_stop.go#L39 StopContainer', `${CTD}/container_stop.go#L39`),
  stopPodSandbox: ref('containerd v2.1.9 sandbox_stop.go#L35 StopPodSandbox', `${CTD}/sandbox_stop.go#L35`),
  stopSandbox: ref(
    'containerd v2.1.9 podsandbox/sandbox_stop.go#L36 Controller.Stop (the pause)',
    `${CTD}/podsandbox/sandbox_stop.go#L36`,
  ),
  teardownPodNetwork: ref('containerd v2.1.9 sandbox_stop.go#L154 teardownPodNetwork', `${CTD}/sandbox_stop.go#L154`),
  cniRemove: ref(
    'containerd v2.1.9 sandbox_stop.go#L171 netPlugin.Remove (go-cni: CNI DEL)',
    `${CTD}/sandbox_stop.go#L171`,
  ),
  removeNetNS: ref('containerd v2.1.9 sandbox_stop.go#L123 NetNS.Remove', `${CTD}/sandbox_stop.go#L123`),
  removePodSandbox: ref('containerd v2.1.9 sandbox_remove.go#L34 RemovePodSandbox', `${CTD}/sandbox_remove.go#L34`),
  garbageCollect: ref(
    'kubelet v1.35 kuberuntime_gc.go GarbageCollect (evictSandboxes)',
    `${K8S}/kuberuntime/kuberuntime_gc.go`,
  ),
  sandboxExit: ref('containerd v2.1.9 events.go#L50 startSandboxExitMonitor', `${CTD}/events.go#L50`),
  pleg: ref('kubelet v1.35 pleg/generic.go relist', `${K8S}/pleg/generic.go`),
} as const satisfies Record<string, SourceRef>;
