// libcni-oracle runs the real libcni 1.3 (and go-cni 1.1.13) on a JSON request read from stdin and
// prints what each call returned. It is a test instrument for test/libcni-differential.test.ts: the
// plugins it runs are whatever the request's CNI path holds (the test installs a recording plugin).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	gocni "github.com/containerd/go-cni"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

type runtimeConf struct {
	ContainerID    string                 `json:"containerId"`
	NetNS          string                 `json:"netns"`
	IfName         string                 `json:"ifName"`
	Args           [][2]string            `json:"args"`
	CapabilityArgs map[string]interface{} `json:"capabilityArgs"`
}

// One libcni call.
type op struct {
	Verb string `json:"verb"` // ADD DEL CHECK STATUS GC VERSION LOAD
	// The config text: a list, or with single=true a .conf (ConfFromBytes + ConfListFromConf).
	Config           string               `json:"config"`
	Single           bool                 `json:"single"`
	Plugin           string               `json:"plugin"` // for VERSION
	RT               runtimeConf          `json:"rt"`
	ValidAttachments []types.GCAttachment `json:"validAttachments"`
	NoGCArgs         bool                 `json:"noGCArgs"`
}

// go-cni's view of a sandbox: what containerd passes as NamespaceOpts.
type goCniNamespace struct {
	ID           string              `json:"id"`
	Path         string              `json:"path"`
	Labels       map[string]string   `json:"labels"`
	Annotations  map[string]string   `json:"annotations"`
	PortMappings []gocni.PortMapping `json:"portMappings"`
	Bandwidth    *gocni.BandWidth    `json:"bandwidth"`
	DNS          *gocni.DNS          `json:"dns"`
	CgroupPath   string              `json:"cgroupPath"`
}

type goCniRequest struct {
	Verb        string         `json:"verb"` // Setup SetupSerially Remove Check Status
	ConfLists   []string       `json:"confLists"`
	LoNetwork   bool           `json:"loNetwork"`
	MinNetworks int            `json:"minNetworks"`
	Namespace   goCniNamespace `json:"namespace"`
	// LoadDir: go-cni's loadFromConfDir on this directory (max one network), as containerd loads.
	LoadDir string `json:"loadDir"`
}

type request struct {
	CNIPath  []string      `json:"cniPath"`
	CacheDir string        `json:"cacheDir"`
	Ops      []op          `json:"ops"`
	GoCni    *goCniRequest `json:"goCni"`
}

type answer struct {
	Result interface{} `json:"result,omitempty"`
	Error  string      `json:"error,omitempty"`
}

func loadList(o op) (*libcni.NetworkConfigList, error) {
	if o.Single {
		c, err := libcni.ConfFromBytes([]byte(o.Config))
		if err != nil {
			return nil, err
		}
		return libcni.ConfListFromConf(c)
	}
	return libcni.ConfListFromBytes([]byte(o.Config))
}

func runOp(ctx context.Context, c *libcni.CNIConfig, o op) answer {
	if o.Verb == "VERSION" {
		vi, err := c.GetVersionInfo(ctx, o.Plugin)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Result: map[string]interface{}{"supportedVersions": vi.SupportedVersions()}}
	}
	list, err := loadList(o)
	if err != nil {
		return answer{Error: err.Error()}
	}
	rt := &libcni.RuntimeConf{
		ContainerID:    o.RT.ContainerID,
		NetNS:          o.RT.NetNS,
		IfName:         o.RT.IfName,
		Args:           o.RT.Args,
		CapabilityArgs: o.RT.CapabilityArgs,
	}
	switch o.Verb {
	case "LOAD":
		return answer{Result: map[string]interface{}{"name": list.Name, "cniVersion": list.CNIVersion,
			"disableCheck": list.DisableCheck, "disableGC": list.DisableGC, "plugins": len(list.Plugins)}}
	case "ADD":
		r, err := c.AddNetworkList(ctx, list, rt)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Result: r}
	case "DEL":
		err = c.DelNetworkList(ctx, list, rt)
	case "CHECK":
		err = c.CheckNetworkList(ctx, list, rt)
	case "STATUS":
		err = c.GetStatusNetworkList(ctx, list)
	case "GC":
		var args *libcni.GCArgs
		if !o.NoGCArgs {
			args = &libcni.GCArgs{ValidAttachments: o.ValidAttachments}
		}
		err = c.GCNetworkList(ctx, list, args)
	default:
		err = fmt.Errorf("oracle: unknown verb %q", o.Verb)
	}
	if err != nil {
		return answer{Error: err.Error()}
	}
	return answer{}
}

func runGoCni(ctx context.Context, req request) answer {
	g := req.GoCni
	if g.LoadDir != "" {
		n, err := gocni.New(gocni.WithPluginDir(req.CNIPath), gocni.WithPluginConfDir(g.LoadDir), gocni.WithPluginMaxConfNum(1))
		if err != nil {
			return answer{Error: err.Error()}
		}
		if err := n.Load(gocni.WithDefaultConf); err != nil {
			return answer{Error: err.Error()}
		}
		cfg := n.GetConfig()
		if len(cfg.Networks) == 0 {
			return answer{Error: "oracle: no network"}
		}
		return answer{Result: map[string]interface{}{"name": cfg.Networks[0].Config.Name, "source": cfg.Networks[0].Config.Source}}
	}
	min := g.MinNetworks
	if min == 0 {
		min = 1
	}
	n, err := gocni.New(gocni.WithPluginDir(req.CNIPath), gocni.WithMinNetworkCount(min), gocni.WithInterfacePrefix("eth"))
	if err != nil {
		return answer{Error: err.Error()}
	}
	// WithConfListBytes names a network eth<number of networks loaded so far>; containerd's own load
	// (WithLoNetwork, WithDefaultConf) counts only the conf dir's, so its pod network is eth0 with lo
	// loaded first: loading lo last gives the same names.
	var loads []gocni.Opt
	for _, l := range g.ConfLists {
		loads = append(loads, gocni.WithConfListBytes([]byte(l)))
	}
	if g.LoNetwork {
		loads = append(loads, gocni.WithLoNetwork)
	}
	if err := n.Load(loads...); err != nil {
		return answer{Error: err.Error()}
	}
	ns := g.Namespace
	opts := []gocni.NamespaceOpts{gocni.WithLabels(ns.Labels), gocni.WithCapability("io.kubernetes.cri.pod-annotations", ns.Annotations)}
	if len(ns.PortMappings) > 0 {
		opts = append(opts, gocni.WithCapabilityPortMap(ns.PortMappings))
	}
	if ns.Bandwidth != nil {
		opts = append(opts, gocni.WithCapabilityBandWidth(*ns.Bandwidth))
	}
	if ns.DNS != nil {
		opts = append(opts, gocni.WithCapabilityDNS(*ns.DNS))
	}
	if ns.CgroupPath != "" {
		opts = append(opts, gocni.WithCapabilityCgroupPath(ns.CgroupPath))
	}
	switch g.Verb {
	case "Setup", "SetupSerially":
		setup := n.Setup
		if g.Verb == "SetupSerially" {
			setup = n.SetupSerially
		}
		r, err := setup(ctx, ns.ID, ns.Path, opts...)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Result: r}
	case "Remove":
		err = n.Remove(ctx, ns.ID, ns.Path, opts...)
	case "Check":
		err = n.Check(ctx, ns.ID, ns.Path, opts...)
	case "Status":
		err = n.Status()
	default:
		err = fmt.Errorf("oracle: unknown go-cni verb %q", g.Verb)
	}
	if err != nil {
		return answer{Error: err.Error()}
	}
	return answer{}
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "libcni-oracle: bad request:", err)
		os.Exit(2)
	}
	// go-cni builds its libcni config without a cache dir: libcni's package default is what it uses.
	libcni.CacheDir = req.CacheDir
	ctx := context.Background()
	var out []answer
	if req.GoCni != nil {
		out = append(out, runGoCni(ctx, req))
	} else {
		c := libcni.NewCNIConfigWithCacheDir(req.CNIPath, req.CacheDir, nil)
		for _, o := range req.Ops {
			out = append(out, runOp(ctx, c, o))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
