package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tarsKey maps one key TarsGo reads onto the tree.
type tarsKey struct {
	dom  string // "application", "server" or "client" (under /tars/application)
	key  string // the TARS key, case as TarsGo reads it
	kind byte   // 's' string, 'm' milliseconds, 'i' integer, 'z' size ("10M"), 'b' bool, 'f' float, 'v' verifyclient
	def  string // TarsGo's default when the key is absent; "-" for none (the tree's value stays)
	path []string
}

// tarsKeys are the keys of /tars/application, …/server and …/client that
// TarsGo v1.4.6 reads (tars/application.go parseServerConfig and
// parseClientConfig, defaults from tars/setting.go), with TarsGo's
// defaults. Keys handled apart: enableset/setdivision, node_name/nodename,
// maxroutine, and the adapters and client objects (sub-domains).
var tarsKeys = []tarsKey{
	{"server", "node", 's', "", []string{"server", "node"}},
	{"server", "app", 's', "", []string{"server", "app"}},
	{"server", "server", 's', "", []string{"server", "server"}},
	{"server", "localip", 's', "-", []string{"server", "local_ip"}},
	{"server", "local", 's', "", []string{"server", "local"}},
	{"server", "logpath", 's', "", []string{"log", "path"}},
	{"server", "logsize", 'z', "100M", []string{"log", "size"}},
	{"server", "lognum", 'i', "10", []string{"log", "num"}},
	{"server", "logLevel", 's', "-", []string{"log", "level"}},
	{"server", "config", 's', "", []string{"server", "config_obj"}},
	{"server", "notify", 's', "", []string{"server", "notify_obj"}},
	{"server", "log", 's', "", []string{"server", "log_obj"}},
	{"server", "basepath", 's', "", []string{"server", "base_path"}},
	{"server", "datapath", 's', "", []string{"server", "data_path"}},
	{"server", "accepttimeout", 'm', "500", []string{"server", "tars", "accept_timeout"}},
	{"server", "readtimeout", 'm', "0", []string{"server", "tars", "read_timeout"}},
	{"server", "writetimeout", 'm', "0", []string{"server", "tars", "write_timeout"}},
	{"server", "handletimeout", 'm', "0", []string{"server", "tars", "handle_timeout"}},
	{"server", "idletimeout", 'm', "600000", []string{"server", "idle_timeout"}},
	{"server", "zombietimeout", 'm', "10000", []string{"server", "tars", "zombie_timeout"}},
	{"server", "queuecap", 'i', "10000000", []string{"server", "queue_cap"}},
	{"server", "gracedowntimeout", 'm', "60000", []string{"server", "grace_timeout"}},
	{"server", "tcpreadbuffer", 'i', "134217728", []string{"server", "tars", "tcp_read_buffer"}},
	{"server", "tcpwritebuffer", 'i', "134217728", []string{"server", "tars", "tcp_write_buffer"}},
	{"server", "tcpnodelay", 'b', "false", []string{"server", "tars", "tcp_no_delay"}},
	{"server", "maxroutine", 'i', "0", []string{"server", "tars", "max_routine"}},
	{"server", "propertyreportinterval", 'm', "10000", []string{"observability", "property_interval"}},
	{"server", "statreportinterval", 'm', "10000", []string{"observability", "stat_interval"}},
	{"server", "mainloopticker", 'm', "10000", []string{"server", "tars", "main_loop_ticker"}},
	{"server", "statreportchannelbuflen", 'i', "100000", []string{"server", "tars", "stat_report_channel_buf_len"}},
	{"server", "maxPackageLength", 'i', "10485760", []string{"server", "max_packet"}},
	{"server", "key", 's', "", []string{"server", "tls", "key"}},
	{"server", "cert", 's', "", []string{"server", "tls", "cert"}},
	{"server", "ca", 's', "", []string{"server", "tls", "ca"}},
	{"server", "verifyclient", 'v', "0", []string{"server", "tls", "verify_client"}},
	{"server", "ciphers", 's', "", []string{"server", "tls", "ciphers"}},
	{"server", "samplerate", 'f', "0", []string{"server", "tars", "sample_rate"}},
	{"server", "sampletype", 's', "", []string{"server", "tars", "sample_type"}},
	{"server", "sampleaddress", 's', "", []string{"server", "tars", "sample_address"}},
	{"server", "sampleencoding", 's', "json", []string{"server", "tars", "sample_encoding"}},

	{"client", "locator", 's', "", []string{"client", "locator"}},
	{"client", "stat", 's', "", []string{"observability", "stat_obj"}},
	{"client", "property", 's', "", []string{"observability", "property_obj"}},
	{"client", "modulename", 's', "", []string{"client", "module_name"}},
	{"client", "async-invoke-timeout", 'm', "3000", []string{"client", "timeout"}},
	{"client", "refresh-endpoint-interval", 'm', "60000", []string{"client", "refresh_interval"}},
	{"client", "report-interval", 'm', "5000", []string{"client", "tars", "report_interval"}},
	{"client", "check-status-interval", 'm', "1000", []string{"client", "tars", "check_status_interval"}},
	{"client", "keep-alive-interval", 'm', "0", []string{"client", "tars", "keep_alive_interval"}},
	{"client", "clientqueuelen", 'i', "10000", []string{"client", "tars", "queue_len"}},
	{"client", "clientidletimeout", 'm', "600000", []string{"client", "idle_timeout"}},
	{"client", "clientreadtimeout", 'm', "100", []string{"client", "tars", "read_timeout"}},
	{"client", "clientwritetimeout", 'm', "3000", []string{"client", "write_timeout"}},
	{"client", "clientdialtimeout", 'm', "3000", []string{"client", "dial_timeout"}},
	{"client", "reqdefaulttimeout", 'm', "3000", []string{"client", "tars", "req_default_timeout"}},
	{"client", "objqueuemax", 'i', "100000", []string{"client", "tars", "obj_queue_max"}},
	{"client", "ca", 's', "", []string{"client", "tls", "ca"}},
	{"client", "cert", 's', "", []string{"client", "tls", "cert"}},
	{"client", "key", 's', "", []string{"client", "tls", "key"}},
	{"client", "ciphers", 's', "", []string{"client", "tls", "ciphers"}},
}

// adapterKeys are the keys of an adapter domain, <App.Server.ObjAdapter>.
// TarsGo reads endpoint, servant, protocol, queuecap and threads (and the
// TLS keys); queuetimeout and maxconns are TarsCpp's and tarsnode writes
// them, so they are read too.
var adapterKeys = []tarsKey{
	{"", "endpoint", 's', "-", []string{"endpoint"}},
	{"", "protocol", 's', "-", []string{"protocol"}},
	{"", "queuecap", 'i', "-", []string{"queue_cap"}},
	{"", "queuetimeout", 'm', "-", []string{"queue_timeout"}},
	{"", "maxconns", 'i', "-", []string{"max_conns"}},
	{"", "threads", 'i', "-", []string{"threads"}},
	{"", "key", 's', "-", []string{"tls", "key"}},
	{"", "cert", 's', "-", []string{"tls", "cert"}},
	{"", "ca", 's', "-", []string{"tls", "ca"}},
	{"", "verifyclient", 'v', "-", []string{"tls", "verify_client"}},
	{"", "ciphers", 's', "-", []string{"tls", "ciphers"}},
}

// objectKeys are the keys of a client object domain, <client><App.Server.Obj>.
var objectKeys = []tarsKey{
	{"", "ca", 's', "-", []string{"tls", "ca"}},
	{"", "cert", 's', "-", []string{"tls", "cert"}},
	{"", "key", 's', "-", []string{"tls", "key"}},
	{"", "ciphers", 's', "-", []string{"tls", "ciphers"}},
}

func keysOf(dom string) []tarsKey {
	var out []tarsKey
	for _, k := range tarsKeys {
		if k.dom == dom {
			out = append(out, k)
		}
	}
	return out
}

type tarsMapper struct {
	out  map[string]any
	errs []error
}

func (t *tarsMapper) put(v any, path ...string) {
	m := t.out
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

// convert reads the TARS value s of kind k.
func convert(k byte, s string) (any, error) {
	switch k {
	case 's':
		return s, nil
	case 'm':
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(time.Duration(1<<62)/time.Millisecond) || n < 0 {
			return nil, fmt.Errorf("want milliseconds, got %q", s)
		}
		return time.Duration(n) * time.Millisecond, nil
	case 'i':
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("want an integer, got %q", s)
		}
		return n, nil
	case 'z':
		n, err := toInt(s)
		if err != nil {
			return nil, err
		}
		return n, nil
	case 'b':
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("want true or false, got %q", s)
		}
		return b, nil
	case 'f':
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("want a number, got %q", s)
		}
		return f, nil
	case 'v': // TarsGo: anything but "0" verifies
		return s != "0", nil
	}
	panic("config: bad tarsKey kind")
}

func (t *tarsMapper) read(d *Domain, dpath string, keys []tarsKey, prefix []string, defaults bool) {
	for _, k := range keys {
		path := append(prefix[:len(prefix):len(prefix)], k.path...)
		s, line, ok := "", 0, false
		if d != nil {
			s, line, ok = d.Value(k.key)
		}
		if !ok {
			if !defaults || k.def == "-" {
				continue
			}
			s = k.def
		}
		v, err := convert(k.kind, s)
		if err != nil {
			t.errs = append(t.errs, &KeyError{Key: dpath + "<" + k.key + ">", Line: line, Err: err})
			continue
		}
		t.put(v, path...)
	}
}

// MapTars maps a parsed TARS-native file onto the tree: every key TarsGo
// v1.4.6 reads, with TarsGo's default when the file lacks it (so a TARS
// file sets those keys whole, as it does for TarsGo). The root element is
// <tars> (or the legacy <taf>). Keys TarsGo does not read are ignored
// (tarsnode writes many: asyncthread, deactivating-timeout, allow, …).
//
// Mapping: enableset=Y with setdivision → client.set_division; node_name,
// else nodename (what tarsnode writes and TarsCpp reads), else localip →
// server.node_name; maxroutine > 0 → server.max_invoke too (0, TarsGo's
// goroutine per request, leaves gotars' bound); each sub-domain of
// <server> with a servant key is an adapter → servants.<servant> (adapter,
// endpoint, protocol, queuecap (default: the server's queuecap, as
// TarsGo), queuetimeout, maxconns, threads, TLS); each sub-domain of
// <client> → client.objects.<name>.tls. Bad values are *KeyErrors naming
// the TARS key and its line.
func MapTars(root *Domain) (map[string]any, error) {
	t := &tarsMapper{out: map[string]any{}}
	top := root.Sub("tars")
	if top == nil {
		top = root.Sub("taf")
	}
	if top == nil && len(root.subOrder) > 0 {
		d := root.Sub(root.subOrder[0])
		return nil, &SyntaxError{Line: d.Line, Msg: fmt.Sprintf("the root element is <%s>, not <tars>", d.Name)}
	}
	var app, srv, cli *Domain
	if top != nil {
		app = top.Sub("application")
	}
	if app != nil {
		srv, cli = app.Sub("server"), app.Sub("client")
	}
	const ap = "/tars/application"
	set := ""
	if app != nil {
		if v, _, _ := app.Value("enableset"); strings.EqualFold(v, "Y") {
			set, _, _ = app.Value("setdivision")
		}
	}
	t.put(set, "client", "set_division")

	t.read(srv, ap+"/server", keysOf("server"), nil, true)
	t.read(cli, ap+"/client", keysOf("client"), nil, true)

	if srv != nil {
		node, ok := "", false
		for _, k := range []string{"node_name", "nodename", "localip"} {
			if node, _, ok = srv.Value(k); ok {
				break
			}
		}
		if ok {
			t.put(node, "server", "node_name")
		}
		if v, _, ok := srv.Value("maxroutine"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				t.put(n, "server", "max_invoke")
			}
		}
		serverQueue, _ := t.out["server"].(map[string]any)["queue_cap"].(int)
		servants := map[string]any{}
		for _, name := range srv.Subs() {
			a := srv.Sub(name)
			dpath := ap + "/server/" + name
			servant, line, ok := a.Value("servant")
			_, eline, hasEndpoint := a.Value("endpoint")
			switch {
			case !ok && !hasEndpoint:
				continue // not an adapter
			case !ok || servant == "":
				if line == 0 {
					line = eline
				}
				t.errs = append(t.errs, &KeyError{Key: dpath + "<servant>", Line: line, Err: errors.New("an adapter needs a servant")})
				continue
			case !hasEndpoint:
				t.errs = append(t.errs, &KeyError{Key: dpath + "<endpoint>", Line: line, Err: errors.New("an adapter needs an endpoint")})
				continue
			}
			if _, dup := servants[servant]; dup {
				t.errs = append(t.errs, &KeyError{Key: dpath + "<servant>", Line: line, Err: fmt.Errorf("servant %s has a second adapter", servant)})
				continue
			}
			sub := &tarsMapper{out: map[string]any{"adapter": name}}
			if _, _, ok := a.Value("queuecap"); !ok && serverQueue > 0 {
				sub.out["queue_cap"] = serverQueue
			}
			sub.read(a, dpath, adapterKeys, nil, false)
			t.errs = append(t.errs, sub.errs...)
			servants[servant] = sub.out
		}
		t.put(servants, "servants")
	}
	if cli != nil {
		objs := map[string]any{}
		for _, name := range cli.Subs() {
			sub := &tarsMapper{out: map[string]any{}}
			sub.read(cli.Sub(name), ap+"/client/"+name, objectKeys, nil, false)
			t.errs = append(t.errs, sub.errs...)
			objs[name] = sub.out
		}
		if len(objs) > 0 {
			t.put(objs, "client", "objects")
		}
	}
	if err := errors.Join(t.errs...); err != nil {
		return nil, err
	}
	return t.out, nil
}

// ReadTars reads a TARS-native file onto Default() (ParseTars, then
// MapTars) and validates the result.
func ReadTars(b []byte) (Config, error) {
	c := Default()
	root, err := ParseTars(b)
	if err != nil {
		return c, err
	}
	m, err := MapTars(root)
	if err != nil {
		return c, err
	}
	if err := Decode(m, &c); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// FormatTars writes c as a TARS-native file: the keys of MapTars (its
// inverse for them), adapters named by servants.<name>.adapter (default
// <name>Adapter). Keys TARS has no name for (observability.metrics_address,
// client.consul, the policies of methods, …) are not written.
func FormatTars(c Config) ([]byte, error) {
	m := ToMap(c)
	get := func(path []string) any {
		var v any = m
		for _, p := range path {
			mm, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = mm[p]
		}
		return v
	}
	root := newDomain("", 0)
	app := root.sub("tars", 0).sub("application", 0)
	if c.Client.SetDivision != "" {
		app.set("enableset", "Y", 0)
		app.set("setdivision", c.Client.SetDivision, 0)
	} else {
		app.set("enableset", "N", 0)
	}
	cli := app.sub("client", 0)
	srv := app.sub("server", 0)
	write := func(d *Domain, keys []tarsKey, val func([]string) any) {
		for _, k := range keys {
			v := val(k.path)
			var s string
			switch x := v.(type) {
			case nil:
				continue
			case string:
				if k.kind == 'm' {
					d, _ := time.ParseDuration(x)
					s = strconv.FormatInt(d.Milliseconds(), 10)
				} else {
					s = x
				}
			case bool:
				s = strconv.FormatBool(x)
				if k.kind == 'v' {
					s = map[bool]string{true: "1", false: "0"}[x]
				}
			default:
				s = fmt.Sprint(x)
			}
			if s == "" && k.kind == 's' {
				continue
			}
			d.set(k.key, s, 0)
		}
	}
	write(srv, keysOf("server"), get)
	write(cli, keysOf("client"), get)
	if c.Server.NodeName != "" {
		srv.set("node_name", c.Server.NodeName, 0)
		srv.set("nodename", c.Server.NodeName, 0)
	}
	if lv, _, ok := srv.Value("logLevel"); ok {
		srv.set("logLevel", strings.ToUpper(lv), 0)
	}
	names := make([]string, 0, len(c.Servants))
	for n := range c.Servants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sv := c.Servants[n]
		an := sv.Adapter
		if an == "" {
			an = n + "Adapter"
		}
		a := srv.sub(an, 0)
		a.set("servant", n, 0)
		sm := ToMap(Config{Servants: map[string]Servant{n: sv}})["servants"].(map[string]any)[n]
		write(a, adapterKeys, func(p []string) any {
			v := sm
			for _, x := range p {
				v = v.(map[string]any)[x]
			}
			switch x := v.(type) {
			case int:
				if x == 0 {
					return nil
				}
			case string:
				if x == "0s" {
					return nil
				}
			case bool:
				if !x {
					return nil
				}
			}
			return v
		})
	}
	objs := make([]string, 0, len(c.Client.Objects))
	for n := range c.Client.Objects {
		if n != "*" && c.Client.Objects[n].TLS != (TLS{}) {
			objs = append(objs, n)
		}
	}
	sort.Strings(objs)
	for _, n := range objs {
		t := c.Client.Objects[n].TLS
		o := cli.sub(n, 0)
		for _, kv := range [][2]string{{"ca", t.CA}, {"cert", t.Cert}, {"key", t.Key}, {"ciphers", t.Ciphers}} {
			if kv[1] != "" {
				o.set(kv[0], kv[1], 0)
			}
		}
	}
	if _, err := DomainFromMap(root.Map()); err != nil {
		return nil, err
	}
	return root.Format(), nil
}

// TarsParser is a koanf Parser (Unmarshal, Marshal) for the TARS-native
// format, mapped onto the tree: Unmarshal is ParseTars then MapTars,
// Marshal is Decode onto Default() then FormatTars. Use it for the file
// tarsnode passes with --config=.
type TarsParser struct{}

// Unmarshal reads a TARS-native file into the tree's nested map.
func (TarsParser) Unmarshal(b []byte) (map[string]any, error) {
	root, err := ParseTars(b)
	if err != nil {
		return nil, err
	}
	return MapTars(root)
}

// Marshal writes the tree's nested map as a TARS-native file.
func (TarsParser) Marshal(m map[string]any) ([]byte, error) {
	c := Default()
	if err := Decode(m, &c); err != nil {
		return nil, err
	}
	return FormatTars(c)
}
