package idl

import (
	"strings"
	"unicode"

	"github.com/gotars/tars/internal/ident"
)

// tarsKeywords are the reserved words of TARS IDL (tars2go's lexer and
// TarsCpp's grammar): none may name a module, type, field, member, method or
// parameter.
var tarsKeywords = words(`module enum struct interface require optional const
	unsigned void out key routekey true false int bool short byte long float
	double string vector map array`)

// langKeywords are the reserved words of C++ and Java, which tars2cpp and
// tars2java generate: a name among them gives generated code that does not
// compile.
var langKeywords = map[string]string{}

func init() {
	for _, l := range []struct{ lang, list string }{
		{"C++", `alignas alignof and and_eq asm auto bitand bitor break case catch
			char char8_t char16_t char32_t class compl concept consteval constexpr
			constinit const_cast continue co_await co_return co_yield decltype
			default delete do dynamic_cast else explicit export extern for friend
			goto if inline mutable namespace new noexcept not not_eq nullptr
			operator or or_eq private protected public register reinterpret_cast
			requires return signed sizeof static static_assert static_cast switch
			template this thread_local throw try typedef typeid typename union
			using virtual volatile wchar_t while xor xor_eq NULL`},
		{"Java", `abstract assert boolean break case catch char class continue default
			do else extends final finally for goto if implements import instanceof
			native new package private protected public return static strictfp
			super switch synchronized this throw throws transient try volatile
			while null`},
	} {
		lang := l.lang
		for w := range words(l.list) {
			if langKeywords[w] == "" {
				langKeywords[w] = lang
			} else {
				langKeywords[w] += " and " + lang
			}
		}
	}
}

// goKeywords are Go's reserved words: tars2go uses module, type and
// parameter names as Go identifiers as they are (fields, methods and enum
// members get a prefix or an upper-case first letter).
var goKeywords = words(`break case chan const continue default defer else
	fallthrough for func go goto if import interface map package range return
	select struct switch type var`)

// goReservedParams are parameter names that break the Go code tars2go
// v1.2.4 generates for a method: Go's predeclared identifiers and the
// locals and package names of the generated proxy and Dispatch functions
// (found by compiling tars2go's output for each).
var goReservedParams = words(`bool byte complex64 complex128 error float32
	float64 int int8 int16 int32 int64 rune string uint uint8 uint16 uint32
	uint64 uintptr any comparable iota nil append cap clear close complex copy
	delete imag len make max min new panic print println real recover
	basef buf bytes codec context contextMap current decoder err fmt funRet
	have imp json jsonData jsonStr length obj ok opts readBuf reqTup requestf
	ret rspTup statusMap tars tarsCtx tarsReq tarsResp tarstrace tools trace
	traceParam traceParamFlag tup tupBuffer ty val value withContext`)

// goReservedMethods are the Go methods tars2go generates on every interface
// type: an IDL method whose name starts with the same word clashes.
var goReservedMethods = words(`SetServant TarsSetTimeout TarsSetProtocol
	Endpoints AddServant AddServantWithContext Dispatch`)

// goReservedFields are the Go methods tars2go generates on every struct.
var goReservedFields = words(`ResetDefault ReadFrom ReadBlock WriteTo WriteBlock`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// checkName reports why name cannot name a field, enum member or method in
// TARS IDL, or "".
func checkName(name string) string {
	if name == "" {
		return "empty name"
	}
	if !ident.Valid(name) {
		return "is not a TARS identifier (ASCII letters, digits and _, not starting with a digit)"
	}
	if tarsKeywords[name] {
		return "is a TARS IDL keyword"
	}
	if lang := langKeywords[name]; lang != "" {
		return "is a reserved word of " + lang + ", which the official compilers generate"
	}
	return ""
}

// checkGoName is checkName for the names tars2go uses as Go identifiers as
// they are: modules (package names), structs, enums and interfaces.
func checkGoName(name string) string {
	if msg := checkName(name); msg != "" {
		return msg
	}
	if goKeywords[name] {
		return "is a reserved word of Go, which tars2go generates"
	}
	return ""
}

// checkParamName is checkGoName plus the names that break tars2go's
// generated methods.
func checkParamName(name string) string {
	if msg := checkGoName(name); msg != "" {
		return msg
	}
	if goReservedParams[name] {
		return "clashes with a name in the Go code tars2go generates for the method"
	}
	return ""
}

// upperFirst is the Go name tars2go gives an IDL name.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// checkModuleName is checkGoName for a module, which tars2go makes a Go
// package: it cannot be main.
func checkModuleName(name string) string {
	if msg := checkGoName(name); msg != "" {
		return msg
	}
	if name == "main" {
		return "cannot be a TARS module (tars2go would generate a Go package main); name the module with a //tars:module directive"
	}
	return ""
}
