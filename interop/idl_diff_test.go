package interop

import (
	"sync/atomic"
	"testing"

	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/idl/testdata/golden/corpus"
	"github.com/gotars/tars/idl/testdata/golden/multi/apitypes"
	"github.com/gotars/tars/idl/testdata/golden/multi/common"
	kinds "github.com/gotars/tars/idl/testdata/golden/types"
	idlapi "github.com/gotars/tars/interop/idlgen/Api"
	idlcorpus "github.com/gotars/tars/interop/idlgen/Corpus"
	idlkinds "github.com/gotars/tars/interop/idlgen/Kinds"
	idluser "github.com/gotars/tars/interop/idlgen/UserService"
	idlcommon "github.com/gotars/tars/interop/idlgen/common"
)

// idlDiffCases pair gotars definitions (M) with the structs tars2go
// generates from the IDL idl-export writes for them (G).
var idlDiffCases = []diffCase{
	// The Go mirror of corpus.tars, every TARS type.
	pair[corpus.Inner, idlcorpus.Inner]("Corpus.Inner", 2000),
	pair[corpus.RequiredScalars, idlcorpus.RequiredScalars]("Corpus.RequiredScalars", 2000),
	pair[corpus.OptionalScalars, idlcorpus.OptionalScalars]("Corpus.OptionalScalars", 2000),
	pair[corpus.Defaults, idlcorpus.Defaults]("Corpus.Defaults", 2000),
	pair[corpus.Containers, idlcorpus.Containers]("Corpus.Containers", 1500),
	pair[corpus.Enums, idlcorpus.Enums]("Corpus.Enums", 2000),
	pair[corpus.Nested, idlcorpus.Nested]("Corpus.Nested", 1000),
	pair[corpus.Nested2, idlcorpus.Nested2]("Corpus.Nested2", 2000),
	pair[corpus.HighTags, idlcorpus.HighTags]("Corpus.HighTags", 2000),
	pair[corpus.AllScalars, idlcorpus.AllScalars]("Corpus.AllScalars", 2000),
	// The example UserService.
	pair[userapi.UserInfo, idluser.UserInfo]("UserService.UserInfo", 2000),
	pair[userapi.UserQuery, idluser.UserQuery]("UserService.UserQuery", 2000),
	pair[userapi.UserPage, idluser.UserPage]("UserService.UserPage", 1500),
	// Named scalar types, rune, byte, defaults of every kind (hex, bool
	// "1", enum by member name). (Kinds.Names, with fields left out, is
	// beyond the random value generator.)
	pair[kinds.Scalars, idlkinds.Scalars]("Kinds.Scalars", 2000),
	pair[kinds.Defaults, idlkinds.Defaults]("Kinds.Defaults", 2000),
	pair[kinds.OneArg, idlkinds.OneArg]("Kinds.OneArg", 500),
	// Types across modules (#include, common::Page, an enum default given
	// as a number because the member name is ambiguous).
	pair[common.Page, idlcommon.Page]("common.Page", 2000),
	pair[apitypes.Item, idlapi.Item]("Api.Item", 2000),
}

// TestIDLDifferential is the wire proof of the exported IDL: tars2go's
// code generated from it reads and writes exactly the bytes gotars does
// for the Go definitions it came from. The machinery is the codec's
// differential test (runDiff): the Go type and the generated struct must
// declare the same fields (tag, IDL name, require, type); random values
// encode to identical bytes (same length when maps have several entries),
// each side decodes the other's bytes to an equal value, at top level and
// nested at tags 7 and 200.
//
// Not covered here, because the generated Go types differ in kind: fixed
// arrays ([N]T becomes a slice) and pointers (*T becomes T); golden tests
// in idl/ pin how they are exported and TestIDLEverything calls methods
// that carry them.
func TestIDLDifferential(t *testing.T) {
	var values atomic.Int64
	for i, c := range idlDiffCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := c.run(t, valuesPerType(c.n), uint64(1000+i))
			values.Add(int64(got.values))
			t.Logf("%-24s %5d values: %5d byte-identical, %4d compared by length and decoding, %5d nested",
				c.name, got.values, got.identical, got.decoded, got.nested)
		})
	}
	t.Cleanup(func() { t.Logf("%d types, %d values", len(idlDiffCases), values.Load()) })
}
