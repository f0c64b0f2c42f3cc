package interop

// The .tarsdat endpoint cache between TarsGo and gotars. TarsGo reads its
// configuration (and the cache it names) once per process and writes the
// cache from a global refresh loop, so each TarsGo side runs in a child
// process: this test binary again, told by regChildEnv what to do.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"

	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/discovery/tarsregistry"
	"github.com/gotars/tars/example/userservice/userapi"
	UserService "github.com/gotars/tars/interop/gen/UserService"
)

const (
	regChildEnv = "GOTARS_REGISTRY_CHILD" // "write" or "read"
	regConfEnv  = "GOTARS_REGISTRY_CONF"  // the TarsGo configuration file
	regServer   = "RegClient"             // the TarsGo server name: the cache is <datapath>/RegClient.tarsdat
	regNode     = "node-c"                // its node_name
	regMarker   = "REGISTRY-CHILD "       // the child's result line on stdout
)

func init() {
	// Runs before rpc_peer_test.go's init (file order), which would point
	// TarsGo at a configuration that does not exist.
	if mode := os.Getenv(regChildEnv); mode != "" {
		tarsgo.ServerConfigPath = os.Getenv(regConfEnv)
		os.Exit(registryChild(mode))
	}
}

// registryChild is a TarsGo client process configured by regConfEnv. It
// creates a user through the servant userapi.Servant, resolved by name
// (no '@'), and prints the result. In "write" mode it then waits for
// TarsGo's refresh loop to write the cache file.
func registryChild(mode string) int {
	comm := tarsgo.NewCommunicator()
	cli := UserService.NewUserServiceClient(userapi.Servant, comm)
	var out UserService.UserInfo
	ret, err := cli.CreateUser(&UserService.UserInfo{UserName: "child", Email: "child@x"}, &out)
	if err != nil || ret != 0 {
		fmt.Printf("%sfail createUser: %d %v\n", regMarker, ret, err)
		return 1
	}
	if mode == "write" {
		cfg := tarsgo.GetServerConfig()
		path := filepath.Join(cfg.DataPath, cfg.Server) + ".tarsdat"
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, err := os.ReadFile(path)
			if err == nil && strings.Contains(string(data), userapi.Servant) {
				break
			}
			if time.Now().After(deadline) {
				fmt.Printf("%sfail no cache file %s: %v\n", regMarker, path, err)
				return 1
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	fmt.Printf("%sok %d\n", regMarker, out.UserId)
	return 0
}

// runRegistryChild runs the child in mode with a TarsGo configuration whose
// datapath is dir and whose locator is locator, and returns its result line
// and its exit error.
func runRegistryChild(t *testing.T, mode, dir, locator string) (string, error) {
	t.Helper()
	conf := fmt.Sprintf(`<tars>
  <application>
    <server>
      app=Demo
      server=%s
      node_name=%s
      datapath=%s
      logpath=%s
      logLevel=ERROR
    </server>
    <client>
      locator=%s
      refresh-endpoint-interval=100
    </client>
  </application>
</tars>
`, regServer, regNode, dir, filepath.Join(dir, "log"), locator)
	confPath := filepath.Join(t.TempDir(), "child.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), regChildEnv+"="+mode, regConfEnv+"="+confPath)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var result string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), regMarker); ok {
			result = line
		}
	}
	return result, cmd.Wait()
}

// TarsGo writes the cache from its refresh loop; we read it, and a resolver
// whose registry is down starts from it.
func TestRegistryCacheWrittenByTarsGo(t *testing.T) {
	srv := rpcStartGotars(t)
	reg := serveGTRegistry(t)
	active := []tarsregistry.EndpointF{endpointOf(t, srv.addr, "node-s")}
	inactive := []tarsregistry.EndpointF{endpointOf(t, "127.0.0.1:1", "")}
	active[0].Weight, active[0].WeightType, active[0].GroupWorkID = 40, 1, 3
	reg.group[userapi.Servant] = tarsregistry.Lists{Active: active, Inactive: inactive}

	dir := t.TempDir()
	if got, err := runRegistryChild(t, "write", dir, reg.locator); err != nil || got != "ok 1" {
		t.Fatalf("TarsGo child: %q, %v", got, err)
	}
	// TarsGo's framework calls carry its node_name.
	sawNode := false
	for _, q := range reg.all() {
		sawNode = sawNode || q.ID == userapi.Servant && q.NodeName == regNode
	}
	if !sawNode {
		t.Errorf("no query from TarsGo with node_name %q: %+v", regNode, reg.all())
	}

	path := filepath.Join(dir, regServer+".tarsdat")
	ac, err := tarsregistry.ReadAppCache(path)
	if err != nil {
		t.Fatal(err)
	}
	oc, ok := ac.Lookup(userapi.Servant, "", reg.locator)
	want := slices.Clone(active)
	want[0].NodeName = "" // TarsGo's EndpointF has no tag 14: it drops it
	if !ok || !slices.Equal(oc.Endpoints, want) || !slices.Equal(oc.InactiveEndpoints, inactive) {
		t.Fatalf("TarsGo's cache entry %+v (found %v), want %+v / %+v", oc, ok, want, inactive)
	}
	if ac.TarsVersion == "" || ac.ModifyTime == "" {
		t.Errorf("header %+v", ac)
	}

	// The registry goes down; a resolver starting now uses TarsGo's file.
	reg.stop()
	res, err := tarsregistry.New(reg.locator, tarsregistry.WithCacheFile(path), tarsregistry.WithQueryTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s := firstState(t, res, discovery.Target{Servant: userapi.Servant})
	if s.Err == nil || len(s.Endpoints) != 1 || s.Endpoints[0].Port != int(active[0].Port) || s.Endpoints[0].Weight != 40 || len(s.Inactive) != 1 {
		t.Errorf("state from TarsGo's cache %+v", s)
	}
}

// We write the cache after a good answer; TarsGo's AppCache struct reads
// it, and a TarsGo process started while the registry is down calls the
// server it lists.
func TestRegistryCacheReadByTarsGo(t *testing.T) {
	srv := rpcStartGotars(t)
	reg := serveGTRegistry(t)
	active := []tarsregistry.EndpointF{endpointOf(t, srv.addr, "node-s")}
	reg.group[userapi.Servant] = tarsregistry.Lists{Active: active, Inactive: []tarsregistry.EndpointF{endpointOf(t, "127.0.0.1:1", "")}}

	dir := t.TempDir()
	path := filepath.Join(dir, regServer+".tarsdat")
	res, err := tarsregistry.New(reg.locator, tarsregistry.WithCacheFile(path))
	if err != nil {
		t.Fatal(err)
	}
	if s := firstState(t, res, discovery.Target{Servant: userapi.Servant}); s.Err != nil || len(s.Endpoints) != 1 {
		t.Fatalf("state %+v", s)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var theirs tarsgo.AppCache
	if err := json.Unmarshal(data, &theirs); err != nil {
		t.Fatalf("TarsGo's AppCache cannot read our file: %v", err)
	}
	if len(theirs.ObjCaches) != 1 {
		t.Fatalf("TarsGo reads %+v", theirs)
	}
	oc := theirs.ObjCaches[0]
	want := active[0]
	want.NodeName = ""
	if oc.Name != userapi.Servant || oc.SetID != "" || oc.Locator != reg.locator || len(oc.Endpoints) != 1 ||
		ourEndpoint(oc.Endpoints[0]) != want || len(oc.InactiveEndpoints) != 1 {
		t.Fatalf("TarsGo reads %+v", oc)
	}

	reg.stop()
	if got, err := runRegistryChild(t, "read", dir, reg.locator); err != nil || got != "ok 1" {
		t.Fatalf("TarsGo child with the registry down: %q, %v", got, err)
	}
	// The control: without the cache the same child cannot call.
	if got, err := runRegistryChild(t, "read", t.TempDir(), reg.locator); err == nil || !strings.HasPrefix(got, "fail") {
		t.Errorf("TarsGo child without a cache: %q, %v; want a failure", got, err)
	}
}
