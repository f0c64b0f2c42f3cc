package configtarsgo

import (
	"os"
	"testing"

	tarsgoconf "github.com/TarsCloud/TarsGo/tars/util/conf"
	"github.com/gotars/tars/config"
)

// BenchmarkParseTars reads the tarsnode-shaped sample with ParseTars, with
// ReadTars (parse, map onto the tree, decode, validate) and with TarsGo's
// parser, in the same run.
func BenchmarkParseTars(b *testing.B) {
	in, err := os.ReadFile("../../config/testdata/UserService.UserServer.config.conf")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("gotars/ParseTars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := config.ParseTars(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gotars/ReadTars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := config.ReadTars(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tarsgo/conf", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if err := tarsgoconf.New().InitFromBytes(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
