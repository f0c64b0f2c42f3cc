package interop

// The IDL that idl-export writes from gotars definitions, and the TarsGo
// code that tars2go generates from that IDL, are committed: testdata/idl/
// holds the .tars files, idlgen/ the generated packages, and the tests in
// idl_*_test.go run against them (a test cannot compile freshly generated
// code into itself). TestIDLFresh fails when either is out of date; refresh
// both with `go generate` (the lines run in order):
//
//   - the example UserService, the every-type and every-method-shape
//     package idl/testdata/golden/types (module Kinds) and the two-module
//     packages idl/testdata/golden/multi (modules Api and common);
//   - the Go mirror of testdata/corpus.tars, idl/testdata/golden/corpus
//     (module Corpus), with -all since it has no service;
//   - tars2go on the exported files.
//
//go:generate go run -C .. ./cmd/idl-export -o interop/testdata/idl ./example/userservice/userapi ./idl/testdata/golden/types ./idl/testdata/golden/multi/api
//go:generate go run -C .. ./cmd/idl-export -all -o interop/testdata/idl ./idl/testdata/golden/corpus
//go:generate go tool tars2go -outdir=idlgen -module=github.com/gotars/tars/interop testdata/idl/UserService.tars testdata/idl/Kinds.tars testdata/idl/Api.tars testdata/idl/Corpus.tars
