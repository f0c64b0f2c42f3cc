package configtarsgo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	tarsgoconf "github.com/TarsCloud/TarsGo/tars/util/conf"
	"github.com/gotars/tars/config"
)

// TestTarsGoReadsTheSame parses TARS-native files with TarsGo v1.4.6's own
// parser (tars/util/conf) and with config.ParseTars and compares every
// domain and key: the sample files, and 500 generated ones (nested and
// repeated domains with dotted names, key=value lines with spaces, '='
// and '#' in values, comment lines, bare lines, several roots).
//
// The one intended difference: a line without '=' is, for TarsGo, a key
// with an empty value; ParseTars sets no key for it and keeps it in
// Domain.Lines (as TarsGo also does, in GetDomainLine).
func TestTarsGoReadsTheSame(t *testing.T) {
	var files [][]byte
	for _, f := range []string{"UserService.UserServer.config.conf", "legacy.conf", "userservice.tars.conf"} {
		b, err := os.ReadFile("../../config/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		files = append(files, genTars(r))
	}
	for i, b := range files {
		ours, err := config.ParseTars(b)
		if err != nil {
			t.Fatalf("file %d: %v\n%s", i, err, b)
		}
		theirs := tarsgoconf.New()
		if err := theirs.InitFromBytes(b); err != nil {
			t.Fatalf("file %d: TarsGo: %v", i, err)
		}
		compareDomain(t, fmt.Sprintf("file %d", i), b, "", ours, theirs)
	}
}

func compareDomain(t *testing.T, file string, b []byte, path string, ours *config.Domain, theirs *tarsgoconf.Conf) {
	t.Helper()
	p := path
	if p == "" {
		p = "/"
	}
	subs := ours.Subs()
	tsubs := theirs.GetDomain(p)
	sort.Strings(subs)
	sort.Strings(tsubs)
	if path != "" && !slices.Equal(subs, tsubs) {
		t.Fatalf("%s %s: domains %q, TarsGo %q\n%s", file, p, subs, tsubs, b)
	}
	if path != "" {
		tm := theirs.GetMap(p)
		for _, k := range ours.Keys() {
			v, _, _ := ours.Value(k)
			if tv, ok := tm[k]; !ok || tv != v {
				t.Fatalf("%s %s<%s> = %q, TarsGo %q (%v)\n%s", file, p, k, v, tv, ok, b)
			}
		}
		for k, tv := range tm {
			if _, _, ok := ours.Value(k); ok {
				continue
			}
			if tv != "" || !slices.Contains(ours.Lines, k) {
				t.Fatalf("%s %s<%s>: TarsGo has %q, ParseTars nothing\n%s", file, p, k, tv, b)
			}
		}
		if tl := theirs.GetDomainLine(p); !slices.Equal(ours.Lines, tl) {
			t.Fatalf("%s %s: lines %q, TarsGo %q\n%s", file, p, ours.Lines, tl, b)
		}
	}
	for _, s := range subs {
		compareDomain(t, file, b, path+"/"+s, ours.Sub(s), theirs)
	}
}

// genTars writes a random TARS-native file within what both parsers
// take: no '&' or '<' in text, no key that is also a domain name.
func genTars(r *rand.Rand) []byte {
	var b strings.Builder
	names := []string{"tars", "application", "server", "client", "App.Server.ObjAdapter", "A.B.C", "x-y_z"}
	keys := []string{"endpoint", "servant", "queuecap", "logLevel", "async-invoke-timeout", "k.with.dots", "k_2"}
	values := []string{"", "1", "tcp -h 127.0.0.1 -p 18015 -t 60000", "a=b=c", "1 #not a comment", "  padded  ", "Y", "tars.tarsstat.StatObj"}
	var gen func(depth int)
	gen = func(depth int) {
		ind := strings.Repeat("  ", depth)
		for range r.IntN(6) {
			switch r.IntN(6) {
			case 0, 1, 2:
				fmt.Fprintf(&b, "%s%s =%s\n", ind, keys[r.IntN(len(keys))], values[r.IntN(len(values))])
			case 3:
				fmt.Fprintf(&b, "%s# comment %d\n", ind, r.IntN(9))
			case 4:
				fmt.Fprintf(&b, "%s10.0.0.%d\n", ind, r.IntN(9))
			case 5:
				if depth < 4 {
					n := names[r.IntN(len(names))]
					fmt.Fprintf(&b, "%s<%s>\n", ind, n)
					gen(depth + 1)
					fmt.Fprintf(&b, "%s</%s>\n", ind, n)
				}
			}
		}
	}
	for range 1 + r.IntN(3) {
		b.WriteString("<tars>\n")
		gen(1)
		b.WriteString("</tars>\n")
	}
	return []byte(b.String())
}

// TestTarsGoStopsSilently records where the two parsers part: TarsGo
// (encoding/xml, its token errors ignored) stops reading at a bad tag, a
// bare '&' or "--" inside a comment and returns no error, losing the rest
// of the file; ParseTars names the line, or reads the bytes literally.
func TestTarsGoStopsSilently(t *testing.T) {
	tests := []struct {
		name, in string
		errLine  int    // ParseTars' error line; 0: it reads the file
		key      string // a key after the trouble, which TarsGo loses
	}{
		{"mismatched end tag", "<tars>\n<a>\nk=v\n</b>\nx=1\n</tars>", 4, ""},
		{"unclosed element", "<tars>\n<a>\nk=v\n", 2, ""},
		{"bare ampersand", "<tars>\nk=a&b\nj=2\n</tars>", 0, "/tars<j>"},
		{"double dash in a comment", "<tars>\n<!-- a -- b -->\nk=1\n</tars>", 0, "/tars<k>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tarsgoconf.New()
			if err := c.InitFromBytes([]byte(tt.in)); err != nil {
				t.Fatalf("TarsGo now reports %v: update the docs", err)
			}
			d, err := config.ParseTars([]byte(tt.in))
			if tt.errLine > 0 {
				var se *config.SyntaxError
				if !errors.As(err, &se) || se.Line != tt.errLine {
					t.Fatalf("ParseTars: %v; want an error at line %d", err, tt.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := d.Get(tt.key); !ok {
				t.Errorf("ParseTars lost %s", tt.key)
			}
			if v := c.GetString(tt.key); v != "" {
				t.Errorf("TarsGo now reads %s = %q: update the docs", tt.key, v)
			}
		})
	}
}
