package tarsregistry_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/discovery/tarsregistry"
)

// testdata/tarsgo.tarsdat was written by TarsGo v1.4.6's own types and call
// (tars.AppCache, json.MarshalIndent(&cache, "", "    "), as
// endpointmanager.go updateEndpoints writes the file).
func TestReadTarsGoCache(t *testing.T) {
	data, err := os.ReadFile("testdata/tarsgo.tarsdat")
	if err != nil {
		t.Fatal(err)
	}
	ac, err := tarsregistry.ReadAppCache("testdata/tarsgo.tarsdat")
	if err != nil {
		t.Fatal(err)
	}
	const loc = "tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890:tcp -h 10.0.0.2 -p 17890"
	oc, ok := ac.Lookup("Demo.HelloServer.HelloObj", "", loc)
	want := tarsregistry.EndpointF{Host: "10.0.0.12", Port: 10001, Timeout: 60000, IsTCP: 2, Grid: 1, GroupWorkID: 2, GroupRealID: 3, QoS: 4, BakFlag: 5, Weight: 50, WeightType: 1, AuthType: 1}
	if !ok || len(oc.Endpoints) != 2 || oc.Endpoints[1] != want || len(oc.InactiveEndpoints) != 1 {
		t.Fatalf("entry %+v", oc)
	}
	if oc, ok := ac.Lookup("Demo.HelloServer.HelloObj", "demo.sz.1", loc); !ok || oc.Endpoints[0].SetID != "demo.sz.1" || oc.InactiveEndpoints != nil {
		t.Errorf("set entry %+v", oc)
	}
	if ac.TarsVersion != "1.4.5" || ac.LogLevel != "INFO" || ac.ModifyTime != "2026-12-01 16:50:00" {
		t.Errorf("header %+v", ac)
	}
	// Written back, it is the same bytes: our form is TarsGo's.
	out, err := ac.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Errorf("re-encoded file differs:\n%s\nwant\n%s", out, data)
	}
}

func TestWriteAppCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "S.tarsdat")
	ac := &tarsregistry.AppCache{TarsVersion: "gotars"}
	now := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	ac.Put(tarsregistry.ObjCache{Name: "A.B.C", Locator: "L", Endpoints: eps(1)}, now)
	ac.Put(tarsregistry.ObjCache{Name: "A.B.C", SetID: "x.y.z", Locator: "L", Endpoints: eps(2)}, now)
	ac.Put(tarsregistry.ObjCache{Name: "A.B.C", Locator: "L", Endpoints: eps(3), InactiveEndpoints: eps(4)}, now) // replaces the first
	if len(ac.ObjCaches) != 2 || ac.ModifyTime != "2026-12-01 17:00:00" {
		t.Fatalf("%+v", ac)
	}
	if err := tarsregistry.WriteAppCache(path, ac); err != nil {
		t.Fatal(err)
	}
	got, err := tarsregistry.ReadAppCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ac) {
		t.Errorf("read back %+v, want %+v", got, ac)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	// nodeName, which TarsGo lacks, is written only when set.
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte("nodeName")) {
		t.Error("empty nodeName written")
	}
	ac.Put(tarsregistry.ObjCache{Name: "N", Endpoints: []tarsregistry.EndpointF{{Host: "h", Port: 1, NodeName: "node-9"}}}, now)
	data, _ = ac.Marshal()
	if !bytes.Contains(data, []byte(`"nodeName": "node-9"`)) {
		t.Errorf("nodeName missing:\n%s", data)
	}
}

func TestReadAppCacheErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, tarsregistry.MaxCacheSize+1); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte(`{"ObjCaches": [{"Endpoints": [{"port": "x"}]}]}`), 0o644)
	for _, tc := range []struct {
		path string
		is   error
	}{
		{filepath.Join(dir, "missing"), fs.ErrNotExist},
		{big, tarsregistry.ErrCacheTooLarge},
		{bad, nil},
	} {
		_, err := tarsregistry.ReadAppCache(tc.path)
		var ce *tarsregistry.CacheError
		if !errors.As(err, &ce) || ce.Path != tc.path || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("ReadAppCache(%s) = %v", filepath.Base(tc.path), err)
		}
	}
}

func FuzzParseAppCache(f *testing.F) {
	data, err := os.ReadFile("testdata/tarsgo.tarsdat")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"ObjCaches":null}`))
	f.Add([]byte(`{"ObjCaches":[{"Endpoints":[{"host":"h","port":1,"nodeName":"n"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ac, err := tarsregistry.ParseAppCache(data)
		if err != nil {
			return
		}
		out, err := ac.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := tarsregistry.ParseAppCache(out)
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(ac)) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, again, ac)
		}
	})
}

// normalize makes empty and nil lists alike (JSON null and [] differ in
// bytes, not in meaning).
func normalize(ac *tarsregistry.AppCache) *tarsregistry.AppCache {
	c := *ac
	c.ObjCaches = nil
	for _, o := range ac.ObjCaches {
		if len(o.Endpoints) == 0 {
			o.Endpoints = nil
		}
		if len(o.InactiveEndpoints) == 0 {
			o.InactiveEndpoints = nil
		}
		c.ObjCaches = append(c.ObjCaches, o)
	}
	return &c
}

func equalLists(a, b lists) bool {
	for _, x := range []*lists{&a, &b} {
		if len(x.Active) == 0 {
			x.Active = nil
		}
		if len(x.Inactive) == 0 {
			x.Inactive = nil
		}
	}
	return reflect.DeepEqual(a, b)
}

// lists is a QueryF answer body as a struct, to fuzz the EndpointF decoder.
type lists struct {
	Ret      int32                    `tars:"0"`
	Active   []tarsregistry.EndpointF `tars:"2"`
	Inactive []tarsregistry.EndpointF `tars:"3"`
}

func FuzzDecodeEndpointF(f *testing.F) {
	seed, err := reflectcodec.Marshal(&lists{Active: []tarsregistry.EndpointF{
		{Host: "10.0.0.1", Port: 80, Timeout: 3000, IsTCP: 1, Grid: 1, GroupWorkID: 2, GroupRealID: 3, SetID: "a.b.c", QoS: 4, BakFlag: 5, Weight: 6, WeightType: 1, AuthType: 1, NodeName: "n"},
	}, Inactive: eps(81)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		var l lists
		if err := reflectcodec.Unmarshal(data, &l); err != nil {
			return
		}
		out, err := reflectcodec.Marshal(&l)
		if err != nil {
			t.Fatal(err)
		}
		var again lists
		if err := reflectcodec.Unmarshal(out, &again); err != nil || !equalLists(again, l) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, again, l)
		}
	})
}
