// Package badservices declares endpoints that idl-export cannot export.
package badservices

import (
	"github.com/gotars/tars"
	"github.com/gotars/tars/idl/testdata/golden/badservices/other"
)

type Point struct {
	X int32        `tars:"0"`
	H other.Holder `tars:"1"`
}

type Args struct {
	P Point `tars:"1"`
}

type ZeroArgs struct {
	P Point `tars:"0"`
}

type ErrArg struct {
	E int32 `tars:"1,name=err"`
}

type BadOut struct {
	tars.Results
	Ret int32 `tars:"0"`
	Out Point `tars:"3"`
}

type SameName struct {
	tars.Results
	P Point `tars:"2,name=p"`
}

var Svc = tars.NewService("Point")

var Kw = tars.NewService("module")

var name = "dyn"

func service() *tars.Service { return Svc }

var (
	NotStruct = tars.NewEndpoint[int32, int32](Svc, "notStruct")
	ZeroTag   = tars.NewEndpoint[ZeroArgs, int32](Svc, "zeroTag")
	OutTag    = tars.NewEndpoint[Args, BadOut](Svc, "outTag")
	Dyn       = tars.NewEndpoint[Args, int32](Svc, name)
	Void      = tars.NewEndpoint[tars.Void, tars.Void](Svc, "void")
	Dispatch  = tars.NewEndpoint[tars.Void, tars.Void](Svc, "dispatch")
	Get       = tars.NewEndpoint[tars.Void, tars.Void](Svc, "get")
	GetCtx    = tars.NewEndpoint[tars.Void, tars.Void](Svc, "getWithContext")
	Get2      = tars.NewEndpoint[tars.Void, tars.Void](Svc, "get")
	UpperGet  = tars.NewEndpoint[tars.Void, tars.Void](Svc, "Get")
	Opts      = []tars.EndpointOption{tars.Idempotent}
	HiddenOpt = tars.NewEndpoint[tars.Void, tars.Void](Svc, "hiddenOpt", Opts...)
	ErrParam  = tars.NewEndpoint[ErrArg, tars.Void](Svc, "errParam")
	IntRet    = tars.NewEndpoint[tars.Void, int](Svc, "intRet")
	Dup       = tars.NewEndpoint[Args, SameName](Svc, "dup")
	Indirect  = tars.NewEndpoint[tars.Void, tars.Void](service(), "indirect")
	KwMethod  = tars.NewEndpoint[tars.Void, tars.Void](Kw, "fine")
)

var _ = tars.NewService("Blank")

func init() {
	late := tars.NewService("Late")
	_ = tars.NewEndpoint[tars.Void, tars.Void](late, "late")
}

// TARS parameters have neither require nor default=: refused, as
// tars.NewEndpoint refuses them.
type RequireArg struct {
	A int32 `tars:"1,require"`
}

type DefaultOut struct {
	tars.Results
	Ret int32  `tars:"0"`
	B   string `tars:"2,default=x"`
}

var (
	RequireParam = tars.NewEndpoint[RequireArg, tars.Void](Svc, "requireParam")
	DefaultParam = tars.NewEndpoint[RequireArg, DefaultOut](Svc, "defaultParam")
)
