// Source references for each lifecycle step, as seeds/000 gives them (pinned commits), so the
// timeline and the CLI can point a learner at the real code.
export interface SourceRef {
  label: string;
  url: string;
}

const K8S =
  'https://github.com/kubernetes/kubernetes/blob/c8e45a33316e43336dea04c84b7602be04f2ee73/pkg/kubelet/kuberuntime/kuberuntime_manager.go';
const K8S_KUBELET =
  'https://github.com/kubernetes/kubernetes/blob/702e2a3800369a4d7cb1ff04eadb95da38b88aeb/pkg/kubelet/kubelet.go';
const CTD =
  'https://github.com/containerd/containerd/blob/317286ac00e07bebd7d77925c0fef2af0d620e40/internal/cri/server';

const ref = (label: string, url: string): SourceRef => ({ label, url });

export const SOURCES = {
  syncPod: ref('kuberuntime_manager.go#L1394 SyncPod', `${K8S}#L1394`),
  prepareResources: ref('kuberuntime_manager.go#L1531 PrepareResources', `${K8S}#L1531`),
  runPodSandbox: ref('kuberuntime_manager.go#L1543 RunPodSandbox', `${K8S}#L1543`),
  newNetNS: ref('sandbox_run.go#L207 netns.NewNetNS', `${CTD}/sandbox_run.go#L207`),
  setupPodNetwork: ref('sandbox_run.go#L265 setupPodNetwork', `${CTD}/sandbox_run.go#L265`),
  loopbackUp: ref('sandbox_run.go#L429 bring up loopback', `${CTD}/sandbox_run.go#L429`),
  cniSetup: ref('sandbox_run.go#L442 cni.Setup (CNI ADD)', `${CTD}/sandbox_run.go#L442`),
  setupSandboxFiles: ref(
    'podsandbox/sandbox_run_linux.go setupSandboxFiles (hostname, hosts, resolv.conf)',
    `${CTD}/podsandbox/sandbox_run_linux.go`,
  ),
  getPodDns: ref(
    'dns.go GetPodDNS (dnsPolicy, dnsConfig, --cluster-dns, --resolv-conf)',
    'https://github.com/kubernetes/kubernetes/blob/c8e45a33316e43336dea04c84b7602be04f2ee73/pkg/kubelet/network/dns/dns.go',
  ),
  podIps: ref('sandbox_run.go#L457 IPs from the eth0 result', `${CTD}/sandbox_run.go#L457`),
  podSandboxStatus: ref('kuberuntime_manager.go#L1568 PodSandboxStatus', `${K8S}#L1568`),
  getIps: ref('sandbox_status.go#L39 getIPs', `${CTD}/sandbox_status.go#L39`),
  podReadyToStartContainers: ref(
    'seeds/001 "The CNI Handshake", step 6: PodReadyToStartContainers',
    'seeds/001_01361bbea9ac6ef8.txt',
  ),
  statusLoop: ref('kubelet.go#L1871 updateRuntimeUp every 5 s', `${K8S_KUBELET}#L1871`),
  networkReady: ref('status.go#L51 NetworkReady condition', `${CTD}/status.go#L51`),
  nodeNotReady: ref('kubelet.go#L3135 network not ready → node NotReady', `${K8S_KUBELET}#L3135`),
  killPod: ref('kuberuntime_manager.go#L1860 KillPod', `${K8S}#L1860`),
  killContainers: ref('kuberuntime_manager.go#L1869 killContainersWithSyncResult', `${K8S}#L1869`),
  stopPodSandbox: ref('kuberuntime_manager.go#L1879 StopPodSandbox', `${K8S}#L1879`),
  teardownPodNetwork: ref('sandbox_stop.go#L118 teardownPodNetwork', `${CTD}/sandbox_stop.go#L118`),
  cniRemove: ref('sandbox_stop.go#L170 cni.Remove (CNI DEL)', `${CTD}/sandbox_stop.go#L170`),
  removeNetNS: ref('sandbox_stop.go#L122 netns.Remove', `${CTD}/sandbox_stop.go#L122`),
  removePodSandbox: ref('containerd sandbox_remove.go RemovePodSandbox', `${CTD}/sandbox_remove.go`),
} as const satisfies Record<string, SourceRef>;
