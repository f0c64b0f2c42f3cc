package tarsregistry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// AppCache is TarsGo's endpoint cache file, "<datapath>/<server>.tarsdat":
// JSON, indented by four spaces (TarsGo tars/appcache.go, written by
// endpointmanager.go updateEndpoints). A TarsGo process reads the file at
// start and falls back on its entries when its first registry query fails;
// the Resolver does the same with the file given to WithCacheFile, and the
// two read each other's files.
//
// TarsCpp's .tarsdat has the same name but another format (TC_Config); it is
// not read.
type AppCache struct {
	TarsVersion string
	ModifyTime  string // "2006-01-02 15:04:05", local time
	LogLevel    string
	ObjCaches   []ObjCache
}

// ObjCache is one resolved servant in an AppCache, keyed by its name, set
// and the locator it was resolved through.
type ObjCache struct {
	Name              string // the servant, "App.Server.Obj"
	SetID             string // the set it was resolved in, "" for none
	Locator           string // the locator object string, exactly as configured
	Endpoints         []EndpointF
	InactiveEndpoints []EndpointF
}

// MaxCacheSize bounds the cache file ReadAppCache reads.
const MaxCacheSize = 64 << 20

// ErrCacheTooLarge is returned by ReadAppCache for a file over MaxCacheSize.
var ErrCacheTooLarge = errors.New("tarsregistry: cache file exceeds MaxCacheSize")

// CacheError reports a cache file that cannot be read or written.
type CacheError struct {
	Path string
	Op   string // "read" or "write"
	Err  error
}

// Error names the file and the cause.
func (e *CacheError) Error() string {
	return fmt.Sprintf("tarsregistry: %s cache %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *CacheError) Unwrap() error { return e.Err }

// ReadAppCache reads the cache file at path. A missing file is an error
// wrapping fs.ErrNotExist; malformed JSON and a file over MaxCacheSize are
// *CacheError values.
func ReadAppCache(path string) (*AppCache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &CacheError{Path: path, Op: "read", Err: err}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxCacheSize {
		return nil, &CacheError{Path: path, Op: "read", Err: ErrCacheTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxCacheSize+1))
	if err != nil {
		return nil, &CacheError{Path: path, Op: "read", Err: err}
	}
	if len(data) > MaxCacheSize {
		return nil, &CacheError{Path: path, Op: "read", Err: ErrCacheTooLarge}
	}
	c, err := ParseAppCache(data)
	if err != nil {
		return nil, &CacheError{Path: path, Op: "read", Err: err}
	}
	return c, nil
}

// ParseAppCache decodes a cache file's contents.
func ParseAppCache(data []byte) (*AppCache, error) {
	var c AppCache
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Marshal encodes c as TarsGo writes the file: JSON indented by four
// spaces, no trailing newline.
func (c *AppCache) Marshal() ([]byte, error) {
	return json.MarshalIndent(c, "", "    ")
}

// WriteAppCache writes c to path, replacing the file whole (a temporary file
// in the same directory, renamed over it), so that a reader never sees half
// a file. The file's mode is 0644, as TarsGo's.
func WriteAppCache(path string, c *AppCache) error {
	data, err := c.Marshal()
	if err != nil {
		return &CacheError{Path: path, Op: "write", Err: err}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return &CacheError{Path: path, Op: "write", Err: err}
	}
	_, werr := io.Copy(tmp, bytes.NewReader(data))
	if err := tmp.Chmod(0o644); werr == nil {
		werr = err
	}
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return &CacheError{Path: path, Op: "write", Err: werr}
	}
	return nil
}

// Lookup returns the entry for the servant name resolved in set setID
// through locator, as TarsGo matches them (all three equal).
func (c *AppCache) Lookup(name, setID, locator string) (ObjCache, bool) {
	for _, oc := range c.ObjCaches {
		if oc.Name == name && oc.SetID == setID && oc.Locator == locator {
			return oc, true
		}
	}
	return ObjCache{}, false
}

// Put replaces the entry with oc's name, set and locator, or adds it, and
// sets ModifyTime to now.
func (c *AppCache) Put(oc ObjCache, now time.Time) {
	c.ModifyTime = now.Format(time.DateTime)
	for i := range c.ObjCaches {
		o := &c.ObjCaches[i]
		if o.Name == oc.Name && o.SetID == oc.SetID && o.Locator == oc.Locator {
			*o = oc
			return
		}
	}
	c.ObjCaches = append(c.ObjCaches, oc)
}
