// Package idl turns gotars' code-first definitions into TARS IDL: the .tars
// files that TARS' official compilers (tars2go, tars2cpp, tars2java) read.
//
// It reads Go source, not a running program: Export loads the packages the
// way the go command does (golang.org/x/tools/go/packages) and, with their
// type information (go/types), finds
//
//   - every package-level `var X = tars.NewService("Name")`: an interface;
//   - every package-level `var Y = tars.NewEndpoint[Req, Resp](X, "method")`:
//     a method of that interface, printed with the parameter layout the wire
//     carries (see the tars.Endpoint documentation): Req's fields are the
//     in parameters, Resp is the return value unless it embeds tars.Results,
//     whose tag-0 field is then the return value and whose other fields are
//     the out parameters;
//   - every struct and enum that those methods reach, read from the
//     `tars:"..."` struct tags with the codec's own parser
//     (reflectcodec.ParseTag, reflectcodec.LowerCamel), so the IDL names,
//     field ids, require/optional flags and defaults are those on the wire.
//
// A named int32 type is an enum; its members are the package-level
// constants of that type. Go doc comments on types, fields, constants,
// services and endpoints become IDL comments.
//
// The TARS module of a Go package is its package name, or the name given by
// a directive in any of its files:
//
//	//tars:module UserService
//
// Definitions of several modules give one file per module, each with
// `#include` lines for the modules it uses and types qualified as
// Module::Type. The output is deterministic: the same source gives the same
// bytes.
//
// Anything that TARS IDL cannot express — a Go int, an interface, a map key
// that TARS cannot key on, a name that is a TARS keyword, an enum without
// constants, a declaration that static analysis cannot see — is an error
// naming the file, line and Go field; Export then returns no file at all.
//
// cmd/idl-export is the command-line front end; docs/idl-export.md is the
// guide.
package idl
