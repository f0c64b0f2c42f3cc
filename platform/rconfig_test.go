package platform_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/platform"
)

// configServer is a tarsconfig served by gotars: loadConfigByInfo answers
// the file of that name, ret -1 for an unknown one and ret 429 for
// "busy.conf"; it records what it was asked.
type configServer struct {
	ep    string
	mu    sync.Mutex
	files map[string]string
	asked []platform.ConfigInfo
	ctxs  []map[string]string
}

func newConfigServer(t testing.TB, files map[string]string) *configServer {
	cs := &configServer{files: files}
	_, cs.ep = serve(t, func(s *tars.Server) {
		tars.Handle(s, platform.ConfigObj, platform.ConfigLoadConfigByInfo, func(ctx context.Context, a platform.ConfigInfoArgs) (platform.InfoContent, error) {
			cs.mu.Lock()
			defer cs.mu.Unlock()
			cs.asked = append(cs.asked, a.ConfigInfo)
			call, _ := tars.CallFromContext(ctx)
			cs.ctxs = append(cs.ctxs, call.Context)
			if a.ConfigInfo.FileName == "busy.conf" {
				return platform.InfoContent{Ret: 429}, nil
			}
			c, ok := cs.files[a.ConfigInfo.FileName]
			if !ok {
				return platform.InfoContent{Ret: -1}, nil
			}
			return platform.InfoContent{Content: c}, nil
		})
		tars.Handle(s, platform.ConfigObj, platform.ConfigListAllConfigByInfo, func(ctx context.Context, a platform.ConfigListArgs) (platform.InfoFileList, error) {
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if a.ConfigInfo.AppName != "Demo" {
				return platform.InfoFileList{Ret: -1}, nil
			}
			var names []string
			for n := range cs.files {
				names = append(names, n)
			}
			return platform.InfoFileList{Files: names}, nil
		})
	})
	return cs
}

func (cs *configServer) last() (platform.ConfigInfo, map[string]string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.asked[len(cs.asked)-1], cs.ctxs[len(cs.ctxs)-1]
}

func TestRemoteConfigLoad(t *testing.T) {
	cs := newConfigServer(t, map[string]string{"a.conf": "<a>\nx=1\n</a>\n", "b.conf": "b", "big.conf": strings.Repeat("z", 2000)})
	dir := t.TempDir()
	var loaded []string
	rc, err := platform.NewRemoteConfig(client(t, platform.ConfigObj, cs.ep), platform.RemoteConfigOptions{
		App: "Demo", Server: "HelloServer", SetDivision: "demo.sz.1", BasePath: dir, NodeName: "10.0.0.7",
		Files: []string{"a.conf", "b.conf"}, MaxSize: 1000,
		OnLoad: func(name, path string) { loaded = append(loaded, name+"="+path) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rc.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.conf": "<a>\nx=1\n</a>\n", "b.conf": "b"} {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v, %v; want 0644", name, fi.Mode(), err)
		}
	}
	if want := []string{"a.conf=" + filepath.Join(dir, "a.conf"), "b.conf=" + filepath.Join(dir, "b.conf")}; strings.Join(loaded, ",") != strings.Join(want, ",") {
		t.Errorf("OnLoad saw %v", loaded)
	}
	info, rctx := cs.last()
	if want := (platform.ConfigInfo{AppName: "Demo", ServerName: "HelloServer", FileName: "b.conf", SetDivision: "demo.sz.1"}); info != want {
		t.Errorf("asked %+v, want %+v", info, want)
	}
	if rctx["node_name"] != "10.0.0.7" {
		t.Errorf("request context %v lacks node_name", rctx)
	}

	if _, err := rc.LoadApp(ctx, "b.conf"); err != nil {
		t.Fatal(err)
	}
	if info, _ := cs.last(); info.ServerName != "" || info.AppName != "Demo" {
		t.Errorf("LoadApp asked %+v", info)
	}

	// Failures name the file and leave the old one in place.
	for _, tc := range []struct {
		file string
		ret  int32
		err  error
	}{
		{"busy.conf", 429, nil},
		{"none.conf", -1, nil},
		{"big.conf", 0, platform.ErrConfigTooLarge},
		{"../a.conf", 0, platform.ErrBadFileName},
		{"sub/a.conf", 0, platform.ErrBadFileName},
		{"..", 0, platform.ErrBadFileName},
		{"", 0, platform.ErrBadFileName},
	} {
		_, err := rc.Load(ctx, tc.file)
		var ce *platform.ConfigError
		if !errors.As(err, &ce) || ce.File != tc.file || ce.Ret != tc.ret || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("Load(%q) = %v; want a ConfigError ret %d, %v", tc.file, err, tc.ret, tc.err)
			continue
		}
		if !strings.Contains(err.Error(), `"`+tc.file+`"`) {
			t.Errorf("%v does not name the file", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "big.conf")); !os.IsNotExist(err) {
		t.Errorf("an oversized file was written: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "a.conf b.conf" {
		t.Errorf("basepath holds %v, want only a.conf b.conf (no temporary files)", names)
	}

	files, err := rc.List(ctx)
	if err != nil || len(files) != 3 {
		t.Errorf("List = %v, %v", files, err)
	}
}

func TestRemoteConfigErrors(t *testing.T) {
	c, err := tars.NewClient(platform.ConfigObj + "@tcp -h 127.0.0.1 -p 1 -t 200")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		name string
		c    *tars.Client
		opts platform.RemoteConfigOptions
	}{
		{"nil client", nil, platform.RemoteConfigOptions{BasePath: "/tmp"}},
		{"no basepath", c, platform.RemoteConfigOptions{}},
		{"negative size", c, platform.RemoteConfigOptions{BasePath: "/tmp", MaxSize: -1}},
		{"bad file", c, platform.RemoteConfigOptions{BasePath: "/tmp", Files: []string{"x/../../etc/passwd"}}},
	} {
		if _, err := platform.NewRemoteConfig(tc.c, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}

	// A tarsconfig that does not answer: the error names the file; the
	// basepath that does not exist: likewise.
	rc, err := platform.NewRemoteConfig(c, platform.RemoteConfigOptions{App: "A", Server: "S", BasePath: t.TempDir(), Files: []string{"x.conf", "y.conf"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = rc.LoadAll(ctx)
	if err == nil || !strings.Contains(err.Error(), `"x.conf"`) || !strings.Contains(err.Error(), `"y.conf"`) {
		t.Errorf("LoadAll against nothing = %v", err)
	}

	cs := newConfigServer(t, map[string]string{"a.conf": "a"})
	rc, _ = platform.NewRemoteConfig(client(t, platform.ConfigObj, cs.ep), platform.RemoteConfigOptions{App: "A", BasePath: filepath.Join(t.TempDir(), "absent")})
	var ce *platform.ConfigError
	if _, err := rc.Load(ctx, "a.conf"); !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load into a missing basepath = %v", err)
	}
}
