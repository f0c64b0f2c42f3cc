package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrUnknownKey is wrapped by the KeyError of a key the tree does not have.
var ErrUnknownKey = errors.New("unknown key")

// KeyError is an error about one configuration key: unknown, of the wrong
// type, or out of range.
type KeyError struct {
	Key  string // "client.timeout"; a map entry is one level, dots and all
	File string // the file that set it, when known
	Line int    // its line in a TARS-native file, when known
	Err  error
}

// Error names the file and line when known, then the key and the cause.
func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	fmt.Fprintf(&b, "%s: %v", e.Key, e.Err)
	return b.String()
}

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }

// InFile sets the File of every KeyError in err (a single error or an
// errors.Join of them) that has none, and returns err.
func InFile(err error, file string) error {
	for _, e := range flatten(err) {
		var ke *KeyError
		if errors.As(e, &ke) && ke.File == "" {
			ke.File = file
		}
	}
	return err
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// Decode sets the keys of m, a nested map as koanf and the YAML, JSON and
// TOML parsers produce, on c. Values may be of their own type or strings
// ("3s", "100", "true", "Y", "10M"); a duration needs a unit; a nil value
// leaves its key unset. Every unknown key and bad value is reported, each
// as a *KeyError, joined with errors.Join.
func Decode(m map[string]any, c *Config) error {
	var errs []error
	decodeStruct(nil, m, reflect.ValueOf(c).Elem(), &errs)
	return errors.Join(errs...)
}

var durationType = reflect.TypeFor[time.Duration]()

// joinKey writes a path with "." between levels, an empty level as "".
func joinKey(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		if p == "" {
			p = `""`
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

func fieldByKey(t reflect.Type, key string) (int, bool) {
	fold := -1
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		if tag == key {
			return i, true
		}
		if fold < 0 && strings.EqualFold(tag, key) {
			fold = i
		}
	}
	return fold, fold >= 0
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[fmt.Sprint(k)] = x
		}
		return out, true
	}
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func decodeStruct(path []string, v any, rv reflect.Value, errs *[]error) {
	m, ok := asMap(v)
	if !ok {
		*errs = append(*errs, &KeyError{Key: joinKey(path), Err: fmt.Errorf("want a table of keys, got %T %v", v, v)})
		return
	}
	for _, k := range sortedKeys(m) {
		p := append(path[:len(path):len(path)], k)
		i, ok := fieldByKey(rv.Type(), k)
		if !ok {
			*errs = append(*errs, &KeyError{Key: joinKey(p), Err: ErrUnknownKey})
			continue
		}
		decodeValue(p, m[k], rv.Field(i), errs)
	}
}

func decodeValue(path []string, v any, rv reflect.Value, errs *[]error) {
	if v == nil {
		return
	}
	bad := func(err error) {
		*errs = append(*errs, &KeyError{Key: joinKey(path), Err: err})
	}
	switch {
	case rv.Kind() == reflect.Struct:
		decodeStruct(path, v, rv, errs)
	case rv.Kind() == reflect.Map:
		m, ok := asMap(v)
		if !ok {
			bad(fmt.Errorf("want a table of entries, got %T %v", v, v))
			return
		}
		if rv.IsNil() {
			if len(m) == 0 {
				return
			}
			rv.Set(reflect.MakeMap(rv.Type()))
		}
		for _, k := range sortedKeys(m) {
			if k == "" {
				bad(errors.New("empty entry name"))
				continue
			}
			e := reflect.New(rv.Type().Elem()).Elem()
			if old := rv.MapIndex(reflect.ValueOf(k)); old.IsValid() {
				e.Set(old)
			}
			decodeValue(append(path[:len(path):len(path)], k), m[k], e, errs)
			rv.SetMapIndex(reflect.ValueOf(k), e)
		}
	case rv.Type() == durationType:
		d, err := toDuration(v)
		if err != nil {
			bad(err)
			return
		}
		rv.SetInt(int64(d))
	case rv.Kind() == reflect.String:
		switch x := v.(type) {
		case string:
			rv.SetString(x)
		case bool, int, int64, float64, uint64:
			rv.SetString(fmt.Sprint(x))
		default:
			bad(fmt.Errorf("want a string, got %T", v))
		}
	case rv.Kind() == reflect.Bool:
		b, err := toBool(v)
		if err != nil {
			bad(err)
			return
		}
		rv.SetBool(b)
	case rv.Kind() == reflect.Int || rv.Kind() == reflect.Int64:
		n, err := toInt(v)
		if err != nil {
			bad(err)
			return
		}
		if rv.OverflowInt(n) {
			bad(fmt.Errorf("%d is out of range", n))
			return
		}
		rv.SetInt(n)
	case rv.Kind() == reflect.Float64:
		f, err := toFloat(v)
		if err != nil {
			bad(err)
			return
		}
		rv.SetFloat(f)
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Int:
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case []int:
			for _, n := range x {
				items = append(items, n)
			}
		case string:
			for _, f := range strings.Split(x, ",") {
				if f = strings.TrimSpace(f); f != "" {
					items = append(items, f)
				}
			}
		default:
			items = []any{x}
		}
		out := reflect.MakeSlice(rv.Type(), 0, len(items))
		for i, it := range items {
			n, err := toInt(it)
			if err != nil || n != int64(int(n)) {
				bad(fmt.Errorf("item %d: %v", i, err))
				return
			}
			out = reflect.Append(out, reflect.ValueOf(int(n)))
		}
		rv.Set(out)
	default:
		bad(fmt.Errorf("unsupported field type %s", rv.Type()))
	}
}

// toDuration reads a Go duration ("1.5s", "3000ms"). A number without a
// unit is refused but for 0: 3000 is not 3000ns nor obviously 3000ms.
func toDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "0" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
				return 0, fmt.Errorf("duration %q has no unit (write %sms or %ss)", s, s, s)
			}
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return d, nil
	case int, int64, float64, uint64:
		if fmt.Sprint(x) == "0" {
			return 0, nil
		}
		return 0, fmt.Errorf("duration %v has no unit (write %vms or %vs)", x, x, x)
	}
	return 0, fmt.Errorf("want a duration, got %T", v)
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "1", "t", "true", "y", "yes", "on":
			return true, nil
		case "0", "f", "false", "n", "no", "off", "":
			return false, nil
		}
		return false, fmt.Errorf("bad boolean %q", x)
	case int, int64:
		return fmt.Sprint(x) != "0", nil
	}
	return false, fmt.Errorf("want a boolean, got %T", v)
}

var sizeUnits = map[string]int64{"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "G": 1 << 30, "GB": 1 << 30}

// toInt reads an integer: a number, or a string in decimal with an
// optional size unit (K, M, G: powers of 1024, as TARS's logsize).
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
			return 0, fmt.Errorf("want an integer, got %v", x)
		}
		return int64(x), nil
	case string:
		s := strings.TrimSpace(x)
		i := len(s)
		for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
			i--
		}
		mult, ok := sizeUnits[strings.ToUpper(strings.TrimSpace(s[i:]))]
		if !ok {
			return 0, fmt.Errorf("bad integer %q", x)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s[:i]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad integer %q", x)
		}
		if n > math.MaxInt64/mult || n < math.MinInt64/mult {
			return 0, fmt.Errorf("%q is out of range", x)
		}
		return n * mult, nil
	}
	return 0, fmt.Errorf("want an integer, got %T", v)
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("bad number %q", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

// ToMap returns c as a nested map with the tree's keys, durations as
// strings: what a koanf confmap provider takes as the defaults layer, and
// what the YAML, JSON and TOML parsers write back.
func ToMap(c Config) map[string]any {
	return toMap(reflect.ValueOf(c)).(map[string]any)
}

func toMap(rv reflect.Value) any {
	switch {
	case rv.Kind() == reflect.Struct:
		m := map[string]any{}
		for i := range rv.NumField() {
			tag := rv.Type().Field(i).Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			if f := rv.Field(i); f.Kind() == reflect.Map && f.Len() == 0 {
				continue // an empty map is unset, as an empty list is
			}
			m[tag] = toMap(rv.Field(i))
		}
		return m
	case rv.Kind() == reflect.Map:
		m := map[string]any{}
		for _, k := range rv.MapKeys() {
			m[k.String()] = toMap(rv.MapIndex(k))
		}
		return m
	case rv.Type() == durationType:
		return time.Duration(rv.Int()).String()
	case rv.Kind() == reflect.Slice:
		if rv.Len() == 0 {
			return nil // an empty list is unset, for Decode and for koanf
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	}
	return rv.Interface()
}

// Canonical spells a key's path as the tree does: a level that names a
// field takes the field's name (matched in any case), a level that names
// a map entry (a servant, an object, a method) stays as written, and
// entry reports which levels are entries. ok is false when a level names
// no field (that level and the rest come back in lower case).
func Canonical(path []string) (out []string, entry []bool, ok bool) {
	t := reflect.TypeFor[Config]()
	out = make([]string, len(path))
	entry = make([]bool, len(path))
	for i, p := range path {
		switch t.Kind() {
		case reflect.Struct:
			f, found := fieldByKey(t, p)
			if !found {
				for j := i; j < len(path); j++ {
					out[j] = strings.ToLower(path[j])
				}
				return out, entry, false
			}
			out[i] = t.Field(f).Tag.Get("koanf")
			t = t.Field(f).Type
		case reflect.Map:
			out[i], entry[i] = p, true
			t = t.Elem()
		default:
			copy(out[i:], path[i:])
			return out, entry, false
		}
	}
	return out, entry, true
}

// Key describes one key of the tree outside its maps: its name, its kind
// and its value in the Config it was taken from.
type Key struct {
	Name  string // "client.timeout"
	Kind  string // "string", "int", "bool", "float", "duration", "ints"
	Value string // the value, as Decode reads it back
}

// Keys lists the keys of c outside its maps (servants, client.objects), in
// the tree's order: the keys a flag or an environment variable can set by
// a fixed name.
func Keys(c Config) []Key {
	var out []Key
	var walk func(path []string, rv reflect.Value)
	walk = func(path []string, rv reflect.Value) {
		for i := range rv.NumField() {
			tag := rv.Type().Field(i).Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			f := rv.Field(i)
			p := append(path[:len(path):len(path)], tag)
			k := Key{Name: joinKey(p)}
			switch {
			case f.Kind() == reflect.Struct:
				walk(p, f)
				continue
			case f.Kind() == reflect.Map:
				continue
			case f.Type() == durationType:
				k.Kind, k.Value = "duration", time.Duration(f.Int()).String()
			case f.Kind() == reflect.Slice:
				k.Kind = "ints"
				var s []string
				for j := range f.Len() {
					s = append(s, strconv.FormatInt(f.Index(j).Int(), 10))
				}
				k.Value = strings.Join(s, ",")
			case f.Kind() == reflect.Float64:
				k.Kind, k.Value = "float", strconv.FormatFloat(f.Float(), 'g', -1, 64)
			case f.Kind() == reflect.Bool:
				k.Kind, k.Value = "bool", strconv.FormatBool(f.Bool())
			case f.Kind() == reflect.String:
				k.Kind, k.Value = "string", f.String()
			default:
				k.Kind, k.Value = "int", strconv.FormatInt(f.Int(), 10)
			}
			out = append(out, k)
		}
	}
	walk(nil, reflect.ValueOf(c))
	return out
}
