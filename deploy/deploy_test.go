// Package deploy checks the container image and Kubernetes manifests of the
// example UserService (Dockerfile, k8s/) against its configuration: Docker
// and kubectl are not needed, the files are parsed and compared.
package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gotars/tars/config"
	"github.com/gotars/tars/transport"
)

// Just enough of the Kubernetes objects to check them.
type meta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type configMap struct {
	Kind     string            `yaml:"kind"`
	Metadata meta              `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
}

type deployment struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata meta    `yaml:"metadata"`
			Spec     podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int            `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               securityContext `yaml:"securityContext"`
	Containers                    []container     `yaml:"containers"`
	Volumes                       []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name  string `yaml:"name"`
			Items []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type securityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string `yaml:"protocol"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	Exec *struct {
		Command []string `yaml:"command"`
	} `yaml:"exec"`
	TCPSocket *struct {
		Port intOrString `yaml:"port"`
	} `yaml:"tcpSocket"`
	HTTPGet        any `yaml:"httpGet"`
	GRPC           any `yaml:"grpc"`
	TimeoutSeconds int `yaml:"timeoutSeconds"`
	PeriodSeconds  int `yaml:"periodSeconds"`
}

type service struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string      `yaml:"name"`
			Port       int         `yaml:"port"`
			TargetPort intOrString `yaml:"targetPort"`
			Protocol   string      `yaml:"protocol"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// intOrString is Kubernetes' IntOrString: a port number or a port name.
type intOrString string

func (p *intOrString) UnmarshalYAML(n *yaml.Node) error {
	*p = intOrString(n.Value)
	return nil
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// decodeConfig reads YAML onto config.Default() and validates it, as the
// server's -config does.
func decodeConfig(t *testing.T, name string, b []byte) config.Config {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := config.Default()
	if err := config.Decode(m, &c); err != nil {
		t.Fatal(config.InFile(err, name))
	}
	if err := c.Validate(); err != nil {
		t.Fatal(config.InFile(err, name))
	}
	return c
}

// servantPort is one port a servant listens on.
type servantPort struct {
	servant  string
	port     int
	protocol string // TCP or UDP, as Kubernetes names it
}

func servantPorts(t *testing.T, c config.Config) []servantPort {
	t.Helper()
	var out []servantPort
	for name, s := range c.Servants {
		a, err := transport.ParseAddress(s.Endpoint)
		if err != nil {
			t.Fatalf("servants.%s.endpoint: %v", name, err)
		}
		if a.Port == 0 {
			t.Fatalf("servants.%s.endpoint %q: a container needs a fixed port", name, s.Endpoint)
		}
		if ip := a.Host; ip != "0.0.0.0" && ip != "::" && ip != "" {
			t.Errorf("servants.%s.endpoint %q listens on %s only: in a pod, listen on 0.0.0.0 for the Service to reach it", name, s.Endpoint, ip)
		}
		proto := "TCP"
		if a.Network == "udp" {
			proto = "UDP"
		}
		out = append(out, servantPort{name, a.Port, proto})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].port < out[j].port })
	return out
}

type manifests struct {
	cfg     config.Config
	ports   []servantPort
	cm      configMap
	dep     deployment
	svc     service
	image   dockerfile
	ctr     container
	podSpec podSpec
}

func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{}
	readYAML(t, "k8s/configmap.yaml", &m.cm)
	readYAML(t, "k8s/deployment.yaml", &m.dep)
	readYAML(t, "k8s/service.yaml", &m.svc)
	for file, kind := range map[string]string{"configmap": m.cm.Kind, "deployment": m.dep.Kind, "service": m.svc.Kind} {
		if !strings.EqualFold(kind, file) {
			t.Fatalf("k8s/%s.yaml holds a %q", file, kind)
		}
	}
	raw, ok := m.cm.Data["config.yaml"]
	if !ok {
		t.Fatal("the ConfigMap has no config.yaml")
	}
	m.cfg = decodeConfig(t, "k8s/configmap.yaml:config.yaml", []byte(raw))
	m.ports = servantPorts(t, m.cfg)
	if len(m.ports) == 0 {
		t.Fatal("the ConfigMap's config serves no servant")
	}
	m.podSpec = m.dep.Spec.Template.Spec
	if len(m.podSpec.Containers) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(m.podSpec.Containers))
	}
	m.ctr = m.podSpec.Containers[0]
	m.image = parseDockerfile(t, "Dockerfile")
	return m
}

// TestConfigMapConfig: the ConfigMap's config decodes and validates, and is
// the image's default config (deploy/config.yaml), key for key.
func TestConfigMapConfig(t *testing.T) {
	m := load(t)
	b, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if def := decodeConfig(t, "config.yaml", b); !reflect.DeepEqual(def, m.cfg) {
		t.Errorf("deploy/config.yaml and the ConfigMap's config.yaml differ:\n%+v\n%+v", def, m.cfg)
	}
	if m.cfg.Server.App == "" || m.cfg.Server.Server == "" {
		t.Error("server.app and server.server should name the service")
	}
}

// TestPortsAgree: the container declares each servant's port and no other;
// the Service exposes each on the same number, targeting the container's
// port; the Service and the Deployment select the pods.
func TestPortsAgree(t *testing.T) {
	m := load(t)
	byName := map[string]int{}
	declared := map[int]string{}
	for _, p := range m.ctr.Ports {
		byName[p.Name] = p.ContainerPort
		declared[p.ContainerPort] = cmpOr(p.Protocol, "TCP")
	}
	for _, sp := range m.ports {
		if got, ok := declared[sp.port]; !ok || got != sp.protocol {
			t.Errorf("servant %s serves %s %d; the container declares %v", sp.servant, sp.protocol, sp.port, m.ctr.Ports)
		}
	}
	for port := range declared {
		if !slices.ContainsFunc(m.ports, func(sp servantPort) bool { return sp.port == port }) {
			t.Errorf("the container declares port %d, which no servant serves", port)
		}
	}
	for _, sp := range m.ports {
		found := false
		for _, p := range m.svc.Spec.Ports {
			if p.Port != sp.port {
				continue
			}
			found = true
			if target := resolvePort(p.TargetPort, byName, p.Port); target != sp.port {
				t.Errorf("Service port %d targets %q (port %d), want the servant's %d", p.Port, p.TargetPort, target, sp.port)
			}
			if cmpOr(p.Protocol, "TCP") != sp.protocol {
				t.Errorf("Service port %d is %s, the servant %s", p.Port, p.Protocol, sp.protocol)
			}
		}
		if !found {
			t.Errorf("the Service does not expose servant %s's port %d", sp.servant, sp.port)
		}
	}
	labels := m.dep.Spec.Template.Metadata.Labels
	for what, sel := range map[string]map[string]string{"Service": m.svc.Spec.Selector, "Deployment": m.dep.Spec.Selector.MatchLabels} {
		if len(sel) == 0 {
			t.Errorf("the %s selects nothing", what)
		}
		for k, v := range sel {
			if labels[k] != v {
				t.Errorf("the %s selects %s=%s; the pods are labelled %v", what, k, v, labels)
			}
		}
	}
}

// resolvePort turns a targetPort (a number, a container port name, or
// empty: the Service port) into a port number; 0 when it names no port.
func resolvePort(p intOrString, byName map[string]int, def int) int {
	if p == "" {
		return def
	}
	if n, err := strconv.Atoi(string(p)); err == nil {
		return n
	}
	return byName[string(p)]
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestProbes: readiness and liveness are set and point at a servant's port:
// a TCP connect to it, or tarsping (in the image) calling tars_ping of a
// configured servant on its port over loopback, with a timeout below the
// probe's. gotars serves no HTTP or gRPC health endpoint.
func TestProbes(t *testing.T) {
	m := load(t)
	byName := map[string]int{}
	for _, p := range m.ctr.Ports {
		byName[p.Name] = p.ContainerPort
	}
	probes := map[string]*probe{"readiness": m.ctr.ReadinessProbe, "liveness": m.ctr.LivenessProbe}
	if m.ctr.StartupProbe != nil {
		probes["startup"] = m.ctr.StartupProbe
	}
	execs := 0
	for name, p := range probes {
		if p == nil {
			t.Errorf("no %s probe", name)
			continue
		}
		timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second // Kubernetes' default is 1s
		switch {
		case p.HTTPGet != nil || p.GRPC != nil:
			t.Errorf("%s probe: httpGet/grpc, but a TARS server serves neither", name)
		case p.TCPSocket != nil:
			port := resolvePort(p.TCPSocket.Port, byName, 0)
			if !slices.ContainsFunc(m.ports, func(sp servantPort) bool { return sp.port == port && sp.protocol == "TCP" }) {
				t.Errorf("%s probe connects to %q (port %d), which no TCP servant serves", name, p.TCPSocket.Port, port)
			}
		case p.Exec != nil:
			execs++
			checkPing(t, name, p.Exec.Command, timeout, m)
		default:
			t.Errorf("%s probe has no handler", name)
		}
	}
	if execs == 0 {
		t.Error("no probe calls tars_ping: a TCP connect alone does not show the server answers")
	}
}

// checkPing checks a tarsping probe command.
func checkPing(t *testing.T, name string, cmd []string, probeTimeout time.Duration, m *manifests) {
	t.Helper()
	if len(cmd) < 2 {
		t.Errorf("%s probe: command %q", name, cmd)
		return
	}
	if path.Base(cmd[0]) != "tarsping" || !m.image.installs(cmd[0]) {
		t.Errorf("%s probe runs %s, which the image does not install (final stage copies %v)", name, cmd[0], m.image.copies())
	}
	timeout := 2 * time.Second // tarsping's default
	args := cmd[1:]
	for i := 0; i < len(args)-1; i++ {
		switch a := args[i]; {
		case a == "-q" || a == "--q":
		case a == "-timeout" || a == "--timeout":
			d, err := time.ParseDuration(args[i+1])
			if err != nil {
				t.Errorf("%s probe: -timeout %q: %v", name, args[i+1], err)
			}
			timeout = d
			i++
		case strings.HasPrefix(a, "-timeout=") || strings.HasPrefix(a, "--timeout="):
			d, err := time.ParseDuration(a[strings.Index(a, "=")+1:])
			if err != nil {
				t.Errorf("%s probe: %s: %v", name, a, err)
			}
			timeout = d
		default:
			t.Errorf("%s probe: tarsping has no flag %q", name, a)
		}
	}
	if timeout >= probeTimeout {
		t.Errorf("%s probe: tarsping -timeout %v is not below the probe's timeoutSeconds (%v): the kubelet would kill it first", name, timeout, probeTimeout)
	}
	servant, addrs, err := transport.ParseObject(args[len(args)-1])
	if err != nil || len(addrs) == 0 {
		t.Errorf("%s probe: object %q: %v (want OBJECT@ENDPOINT)", name, args[len(args)-1], err)
		return
	}
	sv, ok := m.cfg.Servants[servant]
	if !ok {
		t.Errorf("%s probe pings %s, which the config does not serve", name, servant)
		return
	}
	want, _ := transport.ParseAddress(sv.Endpoint)
	for _, a := range addrs {
		if a.Port != want.Port || a.Network != want.Network {
			t.Errorf("%s probe pings %s %s:%d; %s is served at %s", name, a.Network, a.Host, a.Port, servant, sv.Endpoint)
		}
		if a.Host != "127.0.0.1" && a.Host != "::1" && a.Host != "localhost" {
			t.Errorf("%s probe pings host %s: the probe runs in the pod, use 127.0.0.1", name, a.Host)
		}
	}
}

// TestResources: requests and limits of CPU and memory are set, and the
// server's memory budget stays below the memory limit.
func TestResources(t *testing.T) {
	m := load(t)
	r := m.ctr.Resources
	for _, k := range []string{"cpu", "memory"} {
		if r.Requests[k] == "" {
			t.Errorf("no %s request", k)
		}
		if r.Limits[k] == "" {
			t.Errorf("no %s limit", k)
		}
	}
	req, err1 := quantity(r.Requests["memory"])
	lim, err2 := quantity(r.Limits["memory"])
	if err1 != nil || err2 != nil {
		t.Fatalf("memory request %q, limit %q: %v %v", r.Requests["memory"], r.Limits["memory"], err1, err2)
	}
	if req > lim {
		t.Errorf("memory request %d above the limit %d", req, lim)
	}
	if budget := m.cfg.Server.MemoryBudget; budget >= lim {
		t.Errorf("server.memory_budget %d is not below the memory limit %d: frames and write queues alone could get the pod killed", budget, lim)
	}
}

// quantity reads a Kubernetes memory quantity ("256Mi", "1G", "1000").
func quantity(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v * u.mult, err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// TestSecurity: the pod runs as a non-root user, without privilege
// escalation or capabilities, on a read-only root filesystem.
func TestSecurity(t *testing.T) {
	m := load(t)
	pod, ctr := m.podSpec.SecurityContext, m.ctr.SecurityContext
	nonRoot := (ctr.RunAsNonRoot != nil && *ctr.RunAsNonRoot) || (ctr.RunAsNonRoot == nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot)
	if !nonRoot {
		t.Error("runAsNonRoot is not true")
	}
	uid := ctr.RunAsUser
	if uid == nil {
		uid = pod.RunAsUser
	}
	if uid != nil && *uid == 0 {
		t.Error("runAsUser is 0")
	}
	if ctr.ReadOnlyRootFilesystem == nil || !*ctr.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if ctr.AllowPrivilegeEscalation == nil || *ctr.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if !slices.Contains(ctr.Capabilities.Drop, "ALL") {
		t.Errorf("capabilities drop %v, want ALL", ctr.Capabilities.Drop)
	}
	if uid != nil && m.image.user != "" {
		if u := strings.Split(m.image.user, ":")[0]; u != strconv.FormatInt(*uid, 10) {
			t.Errorf("the pod runs as %d, the image as %s", *uid, m.image.user)
		}
	}
}

// TestConfigMounted: the container reads the ConfigMap's config.yaml with
// -config, from a read-only mount of the ConfigMap; every GOTARS_
// variable names a key of the tree; SIGTERM's graceful shutdown
// (server.grace_timeout) ends before the kubelet kills the pod.
func TestConfigMounted(t *testing.T) {
	m := load(t)
	file := configArg(append(slices.Clone(m.ctr.Command), m.ctr.Args...))
	if file == "" {
		t.Fatalf("the container is not given -config FILE: command %q args %q", m.ctr.Command, m.ctr.Args)
	}
	var mounted bool
	for _, vm := range m.ctr.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range m.podSpec.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			if v.ConfigMap.Name != m.cm.Metadata.Name {
				t.Errorf("volume %s mounts ConfigMap %q, the manifest's is %q", v.Name, v.ConfigMap.Name, m.cm.Metadata.Name)
			}
			key := rel
			for _, it := range v.ConfigMap.Items {
				if it.Path == rel {
					key = it.Key
				}
			}
			if _, ok := m.cm.Data[key]; !ok {
				t.Errorf("-config %s is key %q of the ConfigMap, which has %v", file, key, slices.Sorted(mapsKeys(m.cm.Data)))
			}
			if !vm.ReadOnly {
				t.Errorf("the config volume %s is not mounted read-only", vm.Name)
			}
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("-config %s is not on a ConfigMap volume", file)
	}

	keys := map[string]bool{}
	for _, k := range config.Keys(config.Default()) {
		keys[k.Name] = true
	}
	for _, e := range m.ctr.Env {
		name, ok := strings.CutPrefix(e.Name, "GOTARS_")
		if !ok {
			continue
		}
		p, entry, ok := config.Canonical(strings.Split(name, "__"))
		if !ok || (!slices.Contains(entry, true) && !keys[strings.Join(p, ".")]) {
			t.Errorf("env %s names no key of the configuration", e.Name)
		}
	}

	grace := 30 * time.Second // Kubernetes' default
	if g := m.podSpec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if m.cfg.Server.GraceTimeout >= grace {
		t.Errorf("server.grace_timeout %v is not below terminationGracePeriodSeconds (%v)", m.cfg.Server.GraceTimeout, grace)
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// configArg returns the file of "-config FILE", "-config=FILE" or
// "--config=FILE" in args.
func configArg(args []string) string {
	for i, a := range args {
		switch {
		case (a == "-config" || a == "--config") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "-config="), strings.HasPrefix(a, "--config="):
			return a[strings.Index(a, "=")+1:]
		}
	}
	return ""
}

// TestKustomization lists every manifest of k8s/.
func TestKustomization(t *testing.T) {
	var k struct {
		Resources []string `yaml:"resources"`
	}
	readYAML(t, "k8s/kustomization.yaml", &k)
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			want = append(want, b)
		}
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v", got, want)
	}
}

// dockerfile is what the checks need of a Dockerfile.
type dockerfile struct {
	stages []stage
	user   string // the final stage's USER
}

type stage struct {
	from, name string
	lines      []string // instructions, continuations joined
}

func (d dockerfile) final() stage { return d.stages[len(d.stages)-1] }

// copies lists the destinations of the final stage's COPY --from lines,
// with the files they copy: "dir/file".
func (d dockerfile) copies() []string {
	var out []string
	for _, l := range d.final().lines {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.EqualFold(f[0], "COPY") || !strings.HasPrefix(f[1], "--from=") {
			continue
		}
		dst := f[len(f)-1]
		for _, src := range f[2 : len(f)-1] {
			if strings.HasSuffix(dst, "/") {
				out = append(out, dst+path.Base(src))
			} else {
				out = append(out, dst)
			}
		}
	}
	return out
}

func (d dockerfile) installs(file string) bool { return slices.Contains(d.copies(), file) }

func parseDockerfile(t *testing.T, file string) dockerfile {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	flush := func() {
		l := strings.TrimSpace(cur.String())
		cur.Reset()
		if l == "" {
			return
		}
		fields := strings.Fields(l)
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			s := stage{from: fields[1]}
			if len(fields) == 4 && strings.EqualFold(fields[2], "AS") {
				s.name = fields[3]
			}
			d.stages = append(d.stages, s)
			d.user = ""
			return
		case "USER":
			d.user = fields[1]
		}
		if len(d.stages) == 0 {
			t.Fatalf("%s: %q before FROM", file, l)
		}
		d.stages[len(d.stages)-1].lines = append(d.stages[len(d.stages)-1].lines, l)
	}
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") && cur.Len() == 0 || t == "" && cur.Len() == 0 {
			continue
		} else if strings.HasPrefix(t, "#") {
			continue // a comment inside a continued instruction
		}
		if s, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(d.stages) < 2 {
		t.Fatalf("%s has %d stages, want a builder and a runtime", file, len(d.stages))
	}
	return d
}

// instruction returns the arguments of the final stage's last instr.
func (s stage) instruction(instr string) (string, bool) {
	var out string
	var ok bool
	for _, l := range s.lines {
		if f := strings.Fields(l); strings.EqualFold(f[0], instr) {
			out, ok = strings.TrimSpace(l[len(f[0]):]), true
		}
	}
	return out, ok
}

// TestDockerfile: a golang:1.26 builder builds the example server and
// tarsping without cgo; the runtime stage is distroless, non-root, exposes
// exactly the servants' ports, runs the server with -config of the config
// it copies in (deploy/config.yaml), and the container of the Deployment
// runs that entrypoint.
func TestDockerfile(t *testing.T) {
	m := load(t)
	d := m.image
	if b := d.stages[0]; !strings.HasPrefix(b.from, "golang:1.26") || b.name == "" {
		t.Errorf("the builder is FROM %s AS %q, want golang:1.26 AS <name>", b.from, b.name)
	}
	var build string
	for _, s := range d.stages[:len(d.stages)-1] {
		for _, l := range s.lines {
			if strings.HasPrefix(strings.ToUpper(l), "RUN") && strings.Contains(l, "go build") {
				build += l + "\n"
			}
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "./example/userservice/server", "./cmd/tarsping"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build does not have %s:\n%s", want, build)
		}
	}
	for _, dir := range []string{"../example/userservice/server", "../cmd/tarsping"} {
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
			t.Errorf("the image builds %s: %v", dir, err)
		}
	}

	final := d.final()
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") {
		t.Errorf("the runtime is FROM %s, want gcr.io/distroless/static (static binaries, no shell)", final.from)
	}
	switch u := strings.Split(d.user, ":")[0]; {
	case u == "":
		if !strings.HasSuffix(final.from, ":nonroot") {
			t.Error("the final stage sets no USER and its base is not :nonroot")
		}
	case u == "0" || u == "root":
		t.Errorf("the final stage runs as %s", d.user)
	}

	expose, _ := final.instruction("EXPOSE")
	var exposed []servantPort
	for _, p := range strings.Fields(expose) {
		num, proto, _ := strings.Cut(p, "/")
		n, err := strconv.Atoi(num)
		if err != nil {
			t.Errorf("EXPOSE %s: %v", p, err)
		}
		exposed = append(exposed, servantPort{port: n, protocol: strings.ToUpper(cmpOr(proto, "tcp"))})
	}
	var want []servantPort
	for _, sp := range m.ports {
		want = append(want, servantPort{port: sp.port, protocol: sp.protocol})
	}
	if !slices.Equal(exposed, want) {
		t.Errorf("EXPOSE %q, the servants serve %v", expose, want)
	}

	entry := jsonForm(t, final, "ENTRYPOINT")
	cmd := jsonForm(t, final, "CMD")
	if len(entry) != 1 || !d.installs(entry[0]) {
		t.Errorf("ENTRYPOINT %q is not a binary the image installs (%v)", entry, d.copies())
	}
	if len(m.ctr.Command) > 0 && !slices.Equal(m.ctr.Command, entry) {
		t.Errorf("the Deployment's command %q replaces the image's entrypoint %q", m.ctr.Command, entry)
	}
	file := configArg(cmd)
	var copied bool
	for _, l := range final.lines {
		f := strings.Fields(l)
		if strings.EqualFold(f[0], "COPY") && len(f) == 3 && f[2] == file {
			copied = true
			if f[1] != "deploy/config.yaml" {
				t.Errorf("the image's %s is %s, want deploy/config.yaml (checked against the ConfigMap)", file, f[1])
			}
		}
	}
	if file == "" || !copied {
		t.Errorf("CMD %q does not pass -config FILE of a config the image copies in", cmd)
	}
	if got := configArg(m.ctr.Args); got == "" {
		t.Error("the Deployment does not pass -config")
	}

	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Split(string(ignore), "\n") {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		for _, need := range []string{"go.mod", "go.sum", "example", "cmd", "deploy", "deploy/config.yaml", "config", "codec"} {
			if ok, _ := path.Match(p, need); ok || p == need {
				t.Errorf("Dockerfile.dockerignore's %q leaves %s out of the build", p, need)
			}
		}
	}
}

// jsonForm returns the exec (JSON) form of the final stage's instr.
func jsonForm(t *testing.T, s stage, instr string) []string {
	t.Helper()
	v, ok := s.instruction(instr)
	if !ok {
		t.Errorf("the final stage has no %s", instr)
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		t.Errorf("%s %s: want the exec form (a JSON array): %v", instr, v, err)
	}
	return out
}
