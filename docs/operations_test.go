// Package docs holds tests that keep the guides in this directory true to
// the code they describe.
package docs

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gotars/tars/config"
)

// A key of the configuration tree, found by walking its koanf tags.
type treeKey struct {
	path  []string // with <s>, <o>, <m> for map entries
	field reflect.StructField
	inMap bool // under servants or client.objects
}

// placeholders name the map entries as the guide writes them.
var placeholders = map[string]string{"servants": "<s>", "objects": "<o>", "methods": "<m>"}

var durationType = reflect.TypeFor[time.Duration]()

// treeKeys walks config.Config's koanf tags by reflection: every leaf key,
// map entries written as placeholders.
func treeKeys() []treeKey {
	var out []treeKey
	var walk func(path []string, t reflect.Type, inMap bool)
	walk = func(path []string, t reflect.Type, inMap bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			p := append(path[:len(path):len(path)], tag)
			ft, m := f.Type, inMap
			if ft.Kind() == reflect.Map {
				p, ft, m = append(p, placeholders[tag]), ft.Elem(), true
			}
			if ft.Kind() == reflect.Struct && ft != durationType {
				walk(p, ft, m)
				continue
			}
			f.Type = ft
			out = append(out, treeKey{path: p, field: f, inMap: m})
		}
	}
	walk(nil, reflect.TypeFor[config.Config](), false)
	return out
}

func kind(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice:
		return "ints"
	case t.Kind() == reflect.Float64:
		return "float"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.String:
		return "string"
	}
	return "int"
}

// row is one line of a key table: key | env | type | default | TARS | change | meaning.
type row struct {
	line                        int
	env, typ, def, tars, change string
}

func keyRows(t *testing.T) map[string]row {
	t.Helper()
	b, err := os.ReadFile("operations.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]row{}
	for i, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		key := strings.Trim(cells[0], "`")
		if len(cells) != 7 {
			if strings.Contains(key, ".") && !strings.Contains(key, " ") && len(cells) > 2 && strings.HasPrefix(cells[1], "`GOTARS_") {
				t.Errorf("operations.md:%d: the row of %s has %d cells, want 7", i+1, key, len(cells))
			}
			continue // another table
		}
		if _, dup := rows[key]; dup {
			t.Errorf("operations.md:%d: a second row for %s", i+1, key)
		}
		rows[key] = row{line: i + 1, env: cells[1], typ: cells[2], def: cells[3], tars: cells[4], change: cells[5]}
	}
	return rows
}

// TestOperationsListsEveryKey fails when a key of config.Default()'s tree
// is missing from docs/operations.md's tables, or a row's env variable,
// type, default or change (live/restart) disagrees with the config
// package, or a row names a key the tree does not have.
func TestOperationsListsEveryKey(t *testing.T) {
	rows := keyRows(t)
	def := reflect.ValueOf(config.Default())
	seen := map[string]bool{}
	for _, k := range treeKeys() {
		name := strings.Join(k.path, ".")
		seen[name] = true
		r, ok := rows[name]
		if !ok {
			t.Errorf("docs/operations.md has no row for %s", name)
			continue
		}
		env := make([]string, len(k.path))
		for i, p := range k.path {
			if strings.HasPrefix(p, "<") {
				env[i] = p
			} else {
				env[i] = strings.ToUpper(p)
			}
		}
		if want := "`GOTARS_" + strings.Join(env, "__") + "`"; r.env != want {
			t.Errorf("operations.md:%d: %s: env %s, want %s", r.line, name, r.env, want)
		}
		if want := kind(k.field.Type); r.typ != want {
			t.Errorf("operations.md:%d: %s: type %s, want %s", r.line, name, r.typ, want)
		}
		want := "restart"
		if config.IsLive(k.path) {
			want = "live"
		}
		if r.change != want {
			t.Errorf("operations.md:%d: %s: change %q, want %q (config.IsLive)", r.line, name, r.change, want)
		}
		if !k.inMap {
			checkDefault(t, r, k, def)
		}
	}
	for name, r := range rows {
		if !seen[name] {
			t.Errorf("operations.md:%d: a row for %s, which the configuration does not have", r.line, name)
		}
	}
}

// checkDefault reads the row's default as the config package reads a
// value (so that "256M" and "1m" are what they say) and compares it with
// config.Default()'s; an empty cell stands for the zero value.
func checkDefault(t *testing.T, r row, k treeKey, def reflect.Value) {
	t.Helper()
	name := strings.Join(k.path, ".")
	want := lookup(def, k.path)
	cell := strings.Trim(r.def, "`")
	if cell == "" {
		if !want.IsZero() {
			t.Errorf("operations.md:%d: %s: no default written, config.Default() has %v", r.line, name, want)
		}
		return
	}
	var c config.Config
	if err := config.Decode(nested(k.path, cell), &c); err != nil {
		t.Errorf("operations.md:%d: %s: default %q: %v", r.line, name, r.def, err)
		return
	}
	if got := lookup(reflect.ValueOf(c), k.path); !reflect.DeepEqual(got.Interface(), want.Interface()) {
		t.Errorf("operations.md:%d: %s: default %s is %v, config.Default() has %v", r.line, name, r.def, got, want)
	}
}

// nested builds {path[0]: {path[1]: … value}}.
func nested(path []string, value any) map[string]any {
	m := map[string]any{path[len(path)-1]: value}
	for i := len(path) - 2; i >= 0; i-- {
		m = map[string]any{path[i]: m}
	}
	return m
}

// lookup returns the value at path in a Config, through map entries.
func lookup(v reflect.Value, path []string) reflect.Value {
	for _, p := range path {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).Tag.Get("koanf") == p {
					v = v.Field(i)
					break
				}
			}
		case reflect.Map:
			e := v.MapIndex(reflect.ValueOf(p))
			if !e.IsValid() {
				return reflect.Zero(v.Type().Elem())
			}
			v = e
		}
	}
	return v
}

var (
	tarsTopKey    = regexp.MustCompile("^`(server|client)<([^>]+)>`")
	tarsObjectKey = regexp.MustCompile("^`<client><Obj>` `([^`]+)`")
	tarsPlainKey  = regexp.MustCompile("^`([a-z]+)`")
)

// probe is a value of the key's kind for a TARS-native file, and what the
// tree must then hold.
func probe(t reflect.Type) (tarsValue string, want any) {
	switch kind(t) {
	case "duration":
		return "7000", 7 * time.Second
	case "bool":
		return "true", true
	case "float":
		return "0.5", 0.5
	case "string":
		return "probe", "probe"
	}
	return "7", 7
}

// TestOperationsTarsColumn: a key the TARS-native column names is read
// into the key of its row: a TARS file setting it (server<…>, client<…>,
// an adapter's key, a client object's key) yields that value there.
func TestOperationsTarsColumn(t *testing.T) {
	rows := keyRows(t)
	const obj = "Probe.Server.Obj"
	checked := 0
	for _, k := range treeKeys() {
		name := strings.Join(k.path, ".")
		r, ok := rows[name]
		if !ok {
			continue // TestOperationsListsEveryKey reports it
		}
		value, want := probe(k.field.Type)
		if name == "log.level" {
			value, want = "DEBUG", "DEBUG"
		}
		endpoint := "tcp -h 127.0.0.1 -p 1"
		var file string
		path := k.path
		switch {
		case tarsTopKey.MatchString(r.tars):
			m := tarsTopKey.FindStringSubmatch(r.tars)
			file = fmt.Sprintf("<tars><application><%s>\n%s=%s\n</%s></application></tars>\n", m[1], m[2], value, m[1])
		case k.path[0] == "servants" && tarsPlainKey.MatchString(r.tars):
			key := tarsPlainKey.FindStringSubmatch(r.tars)[1]
			if key == "endpoint" {
				value, want = "tcp -h 127.0.0.1 -p 7 -t 3000", "tcp -h 127.0.0.1 -p 7 -t 3000"
				endpoint = value
			}
			file = fmt.Sprintf("<tars><application><server>\n<%sAdapter>\nservant=%s\nendpoint=%s\n%s=%s\n</%sAdapter>\n</server></application></tars>\n",
				obj, obj, endpoint, key, value, obj)
			path = append([]string{"servants", obj}, k.path[2:]...)
		case k.path[0] == "client" && len(k.path) > 2 && k.path[1] == "objects" && tarsObjectKey.MatchString(r.tars):
			key := tarsObjectKey.FindStringSubmatch(r.tars)[1]
			file = fmt.Sprintf("<tars><application><client>\n<%s>\n%s=%s\n</%s>\n</client></application></tars>\n", obj, key, value, obj)
			path = append([]string{"client", "objects", obj}, k.path[3:]...)
		default:
			continue // "—", or a key read in a way of its own (set division)
		}
		checked++
		root, err := config.ParseTars([]byte(file))
		if err != nil {
			t.Errorf("operations.md:%d: %s: %v\n%s", r.line, name, err, file)
			continue
		}
		m, err := config.MapTars(root)
		if err != nil {
			t.Errorf("operations.md:%d: %s: %v\n%s", r.line, name, err, file)
			continue
		}
		var c config.Config
		if err := config.Decode(m, &c); err != nil {
			t.Errorf("operations.md:%d: %s: %v", r.line, name, err)
			continue
		}
		got := lookup(reflect.ValueOf(c), path)
		if !got.IsValid() || fmt.Sprint(got.Interface()) != fmt.Sprint(want) {
			t.Errorf("operations.md:%d: %s: the TARS column says %s, but setting it to %s gives %s = %v", r.line, name, r.tars, value, name, got)
		}
	}
	t.Logf("%d TARS keys checked", checked)
	if checked < 60 {
		t.Errorf("only %d TARS keys checked; the column's notation changed?", checked)
	}
}
