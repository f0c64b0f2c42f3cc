// Package interop proves gotars' codec against the real peer: TarsGo v1.4.6,
// its codec.Buffer and the code its IDL compiler tars2go v1.2.4 generates.
//
// The package has no API. Its tests compare gotars' reflection codec with the
// generated code in gen/ (from testdata/*.tars) and with the structs TarsGo
// ships under tars/protocol/res/, value by value and byte by byte, check the
// root module's golden wire vectors against TarsGo's codec.Buffer, and
// benchmark both codecs in the same run. README.md says what is proven and how
// to run it.
package interop

// The generated code in gen/ is committed; TestGeneratedFresh fails when it
// differs from what tars2go writes now. Refresh it with `go generate`.
//go:generate go tool tars2go -outdir=gen -module=github.com/gotars/tars/interop testdata/corpus.tars testdata/user.tars
