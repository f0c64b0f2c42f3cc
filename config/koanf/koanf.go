// Package koanf loads a gotars application's configuration (the tree of
// github.com/gotars/tars/config) in layers with koanf
// (github.com/knadh/koanf/v2): defaults → file → environment → flags, each
// over the one before, and watches the file for changes.
//
//   - Defaults: Loader.Defaults, or config.Default().
//   - File: YAML (.yaml, .yml), JSON (.json), TOML (.toml) or the
//     TARS-native format tarsnode writes (.conf, .tars, or any file whose
//     first character is '<'), read with os.ReadFile (koanf's file provider
//     would pull in fsnotify; Watch polls instead). A key the
//     tree does not have is an error naming the key and the file.
//   - Environment: GOTARS_<LEVEL>__<LEVEL>…=value, levels separated by a
//     double underscore, names in any case: GOTARS_CLIENT__TIMEOUT=5s,
//     GOTARS_LOG__LEVEL=debug,
//     GOTARS_SERVANTS__UserService.UserServiceObj__MAX_INVOKE=200 (a map
//     entry already defined by the defaults or the file matches in any
//     case; a new one keeps the case written).
//   - Flags: the caller's *flag.FlagSet (never the global one), with the
//     flags RegisterFlags defines: -client.timeout=5s, -log.level=debug, …
//     for every key outside the maps; only flags set on the command line
//     count.
//
// Bad values are errors naming the key (config.KeyError). Nothing here
// starts a goroutine: Watch runs in its caller's and returns with its
// context.
package koanf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gotars/tars/config"
	"github.com/knadh/koanf/parsers/json"
	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/basicflag"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	kf "github.com/knadh/koanf/v2"
)

// EnvPrefix is the prefix of the environment variables Load reads.
const EnvPrefix = "GOTARS_"

// ConfigFlag is the name of the flag RegisterFlags defines for the file.
const ConfigFlag = "config"

// delim is koanf's path delimiter: servant names hold dots, '/' is
// TarsGo's own path separator.
const delim = "/"

// Loader loads the configuration. Its zero value loads config.Default()
// and the environment.
type Loader struct {
	// Defaults is the bottom layer; nil means config.Default().
	Defaults *config.Config
	// File is the configuration file; "" means none, unless Flags has a
	// -config flag that was set.
	File string
	// Format forces the file's format: "yaml", "json", "toml" or "tars";
	// "" picks it by the file's extension.
	Format string
	// Environ returns the environment ("KEY=value" strings); nil means
	// os.Environ. Set NoEnv to read none.
	Environ func() []string
	NoEnv   bool
	// Flags is the caller's flag set, parsed, with the flags of
	// RegisterFlags; nil means none.
	Flags *flag.FlagSet
	// PollInterval is how often Watch looks at the file; 0 means one second.
	PollInterval time.Duration
}

// RegisterFlags defines on fs the -config flag and a flag for every key of
// defaults outside its maps, named as the key ("-client.timeout"), with
// defaults' value as its default. Load takes only the flags the command
// line set.
func RegisterFlags(fs *flag.FlagSet, defaults config.Config) {
	if fs.Lookup(ConfigFlag) == nil {
		fs.String(ConfigFlag, "", "the configuration file: YAML, JSON, TOML or TARS-native (.conf)")
	}
	for _, k := range config.Keys(defaults) {
		if fs.Lookup(k.Name) == nil {
			fs.String(k.Name, k.Value, k.Kind+" (config key "+k.Name+")")
		}
	}
}

func (l *Loader) defaults() config.Config {
	if l.Defaults != nil {
		return l.Defaults.Clone()
	}
	return config.Default()
}

// Path returns the file Load reads: File, else the -config flag if set.
func (l *Loader) Path() string {
	if l.File != "" {
		return l.File
	}
	if l.Flags != nil {
		if f := l.Flags.Lookup(ConfigFlag); f != nil {
			return f.Value.String()
		}
	}
	return ""
}

// Load reads the layers and returns the validated configuration. Its
// errors name the key, and the file, variable ($NAME) or flag (-name)
// that set it; with an error the Config returned is the defaults.
func (l *Loader) Load() (config.Config, error) {
	c, _, err := l.load()
	return c, err
}

func (l *Loader) load() (config.Config, []byte, error) {
	k := kf.New(delim)
	def := l.defaults()
	if err := k.Load(confmap.Provider(config.ToMap(def), ""), nil); err != nil {
		return def, nil, err
	}
	var raw []byte
	if path := l.Path(); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return def, nil, fmt.Errorf("config: %w", err)
		}
		raw = b
		m, err := parseFile(path, l.Format, b)
		if err != nil {
			return def, raw, err
		}
		scratch := def.Clone()
		if err := config.Decode(m, &scratch); err != nil {
			return def, raw, config.InFile(err, path)
		}
		if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
			return def, raw, err
		}
	}
	if !l.NoEnv {
		if err := l.loadEnv(k, def); err != nil {
			return def, raw, err
		}
	}
	if l.Flags != nil {
		if err := l.loadFlags(k, def); err != nil {
			return def, raw, err
		}
	}
	c := def.Clone()
	if err := config.Decode(k.Raw(), &c); err != nil {
		return def, raw, err
	}
	if err := c.Validate(); err != nil {
		return def, raw, err
	}
	return c, raw, nil
}

// Parser returns the koanf parser of a format: "yaml", "json", "toml" or
// "tars" (config.TarsParser).
func Parser(format string) (kf.Parser, error) {
	switch format {
	case "yaml", "yml":
		return yaml.Parser(), nil
	case "json":
		return json.Parser(), nil
	case "toml":
		return toml.Parser(), nil
	case "tars", "conf":
		return config.TarsParser{}, nil
	}
	return nil, fmt.Errorf("config: unknown format %q (want yaml, json, toml or tars)", format)
}

// FormatOf returns the format of a file by its extension (.yaml, .yml,
// .json, .toml, .conf, .tars), or by its content: TARS-native when its
// first character that is not a space is '<'.
func FormatOf(path string, content []byte) (string, error) {
	switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), ".")); ext {
	case "yaml", "yml", "json", "toml":
		return ext, nil
	case "conf", "tars":
		return "tars", nil
	}
	if t := bytes.TrimLeft(content, " \t\r\n"); len(t) > 0 && t[0] == '<' {
		return "tars", nil
	}
	return "", fmt.Errorf("config: %s: cannot tell the format; name it .yaml, .json, .toml or .conf", path)
}

func parseFile(path, format string, b []byte) (map[string]any, error) {
	if format == "" {
		f, err := FormatOf(path, b)
		if err != nil {
			return nil, err
		}
		format = f
	}
	p, err := Parser(format)
	if err != nil {
		return nil, err
	}
	m, err := p.Unmarshal(b)
	if err != nil {
		var se *config.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("config: %s:%d: %s", path, se.Line, se.Msg)
		}
		var ke *config.KeyError
		if errors.As(err, &ke) {
			return nil, config.InFile(err, path)
		}
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// envKey turns GOTARS_CLIENT__TIMEOUT into the path client/timeout: a
// level naming a field takes its name in any case; a level naming a map
// entry matches an entry k holds in any case, else stays as written.
func envKey(k *kf.Koanf, name string) string {
	rest := strings.TrimPrefix(name, EnvPrefix)
	if rest == "" {
		return ""
	}
	parts := strings.Split(rest, "__")
	for _, p := range parts {
		if p == "" {
			return ""
		}
	}
	parts, entry, _ := config.Canonical(parts)
	for i, p := range parts {
		if !entry[i] {
			continue
		}
		held := k.MapKeys(strings.Join(parts[:i], delim))
		if slices.Contains(held, p) {
			continue
		}
		for _, h := range held {
			if strings.EqualFold(h, p) {
				parts[i] = h
				break
			}
		}
	}
	return strings.Join(parts, delim)
}

// sections are the tree's top levels (server, servants, client, …).
var sections = func() []string {
	t := reflect.TypeFor[config.Config]()
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("koanf"); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}()

// ours reports whether the GOTARS_ variable name is the configuration's:
// it has a level separator (__), or it begins with a top level's name
// (GOTARS_CLIENT_TIMEOUT is a mistyped key, reported). Others, such as
// GOTARS_CACHE, belong to other tools and are left alone.
func ours(name string) bool {
	rest := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	if rest == "" || strings.Contains(rest, "__") {
		return true
	}
	for _, s := range sections {
		if rest == s || strings.HasPrefix(rest, s+"_") {
			return true
		}
	}
	return false
}

func (l *Loader) loadEnv(k *kf.Koanf, def config.Config) error {
	environ := l.Environ
	if environ == nil {
		environ = os.Environ
	}
	var errs []error
	keys := map[string]bool{}
	p := env.Provider(delim, env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: environ,
		TransformFunc: func(name, v string) (string, any) {
			if !ours(name) {
				return "", nil // another tool's GOTARS_ variable
			}
			key := envKey(k, name)
			if key == "" {
				errs = append(errs, fmt.Errorf("config: $%s: names no key (want %sLEVEL__LEVEL)", name, EnvPrefix))
				return "", nil
			}
			if keys[key] {
				errs = append(errs, fmt.Errorf("config: $%s: a second variable for %s", name, strings.ReplaceAll(key, delim, ".")))
				return "", nil
			}
			keys[key] = true
			scratch := def.Clone()
			if err := config.Decode(nest(strings.Split(key, delim), v), &scratch); err != nil {
				errs = append(errs, config.InFile(err, "$"+name))
				return "", nil
			}
			return key, v
		},
	})
	if err := k.Load(p, nil); err != nil {
		return err
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

func nest(path []string, v any) map[string]any {
	m := map[string]any{path[len(path)-1]: v}
	for i := len(path) - 2; i >= 0; i-- {
		m = map[string]any{path[i]: m}
	}
	return m
}

func (l *Loader) loadFlags(k *kf.Koanf, def config.Config) error {
	known := map[string]bool{}
	for _, key := range config.Keys(def) {
		known[key.Name] = true
	}
	var errs []error
	p := basicflag.ProviderWithValue(l.Flags, delim, func(name, v string) (string, any) {
		if !known[name] {
			return "", nil // the caller's own flags, and -config
		}
		return strings.ReplaceAll(name, ".", delim), v
	}, k)
	if err := k.Load(p, nil); err != nil {
		return err
	}
	l.Flags.Visit(func(f *flag.Flag) {
		if !known[f.Name] {
			return
		}
		scratch := def.Clone()
		if err := config.Decode(nest(strings.Split(f.Name, "."), f.Value.String()), &scratch); err != nil {
			errs = append(errs, config.InFile(err, "-"+f.Name))
		}
	})
	return errors.Join(errs...)
}

// Watch looks at the file every PollInterval until ctx is done. When its
// content changes it loads every layer again and calls onChange with the
// validated result and which changed keys apply live (config.Diff); when
// the new file is bad, with Change.Err set, and current stays in force.
// A change that alters no key calls nothing. current is the configuration
// running now (what Load returned); the first look compares the file with
// it, so a change made between Load and Watch is reported too. The caller applies the change: it
// swaps in clients built from the new values and restarts for the rest.
//
// Watch polls (a stat and a hash of the file) rather than using
// fsnotify: it sees files replaced by rename, removed and recreated, and
// Kubernetes ConfigMap symlink swaps alike, and starts no goroutine. It
// returns nil when ctx ends, or an error at once if there is no file.
func (l *Loader) Watch(ctx context.Context, current config.Config, onChange func(config.Change)) error {
	path := l.Path()
	if path == "" {
		return errors.New("config: Watch: no file to watch")
	}
	every := l.PollInterval
	if every <= 0 {
		every = time.Second
	}
	var last [32]byte // the content last loaded
	loaded, missing := false, false
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		h, err := hashFile(path)
		if err != nil {
			if !missing { // reported once until the file is back
				missing, loaded = true, false
				onChange(config.Change{Old: current, Err: fmt.Errorf("config: %w", err)})
			}
			continue
		}
		missing = false
		if loaded && h == last {
			continue
		}
		last, loaded = h, true
		c, _, err := l.load()
		if err != nil {
			onChange(config.Change{Old: current, Err: err})
			continue
		}
		live, restart := config.Diff(current, c)
		if len(live)+len(restart) == 0 {
			continue
		}
		onChange(config.Change{Old: current, New: c, Live: live, Restart: restart})
		current = c
	}
}

func hashFile(path string) ([32]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}
