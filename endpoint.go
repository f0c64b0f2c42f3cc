package tars

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/internal/ident"
)

// Service is a TARS interface: a name and the endpoints (methods) declared
// on it with NewEndpoint. A servant object on a server implements one or
// more services; a client calls the endpoints of the service its object
// implements.
type Service struct {
	name string
	mu   sync.Mutex
	eps  []*method
}

// NewService declares the TARS interface name. It panics with a *DeclError
// (as NewEndpoint does) if name is not a valid TARS identifier: declarations
// run at start-up, where a mistake must stop the program.
func NewService(name string) *Service {
	if !ident.Valid(name) {
		panic(&DeclError{Service: name, Err: fmt.Errorf("%q is not a valid TARS identifier", name)})
	}
	return &Service{name: name}
}

// Name returns the interface name.
func (s *Service) Name() string { return s.name }

// Methods describes the endpoints declared on the service, in declaration
// order (what idl-export prints).
func (s *Service) Methods() []MethodInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MethodInfo, len(s.eps))
	for i, m := range s.eps {
		out[i] = m.info()
	}
	return out
}

// Void is the request type of a method without in parameters and the
// response type of a method that returns nothing (void, no out parameters).
type Void struct{}

// Results marks a response struct whose fields are the method's results
// rather than its return value: embed it, give the return value (if any)
// tag 0 and the out parameters the tags that follow the in parameters.
//
//	// int createUser(UserInfo userInfo, out UserInfo result)
//	type CreateUserResults struct {
//		tars.Results
//		Ret    int32    `tars:"0"`
//		Result UserInfo `tars:"2,name=result"`
//	}
type Results struct{}

var (
	voidType    = reflect.TypeFor[Void]()
	resultsType = reflect.TypeFor[Results]()
)

// Param describes one parameter of a method, as it travels on the wire.
type Param struct {
	Name string       // the IDL name: the TUP and JSON key
	Tag  uint8        // the wire tag in a TARS (version 1) body
	Type reflect.Type // the Go type
	Out  bool         // an out parameter
}

// MethodInfo describes an endpoint: what idl-export prints and what the wire
// carries.
type MethodInfo struct {
	Service string
	Name    string
	In      []Param      // in parameters, tags 1..n
	Return  reflect.Type // the return value's type (tag 0), nil for void
	Out     []Param      // out parameters, tags n+1..n+m
	Request reflect.Type // the Go request type (Req)
	Reply   reflect.Type // the Go response type (Resp)
	// Idempotent: declared with the Idempotent option, so calls may be
	// retried and hedged (idl-export prints it as a comment).
	Idempotent bool
}

// method is the type-erased plan of one endpoint.
type method struct {
	svc     *Service
	name    string
	reqType reflect.Type
	rspType reflect.Type
	in      *reflectcodec.Params // never nil; no parameters for Void
	out     *reflectcodec.Params // nil for Void
	ret     reflect.Type         // nil for void
	inNames map[string]int       // TUP/JSON name -> index in in.Params()
	// idempotent: declared with Idempotent; its client calls record the
	// endpoints they try, so that a retry or a backup request goes elsewhere.
	idempotent bool
}

func (m *method) info() MethodInfo {
	mi := MethodInfo{Service: m.svc.name, Name: m.name, Request: m.reqType, Reply: m.rspType, Return: m.ret, Idempotent: m.idempotent}
	for _, p := range m.in.Params() {
		mi.In = append(mi.In, Param{Name: p.Name, Tag: p.Tag, Type: p.Type})
	}
	if m.out != nil {
		for _, p := range m.out.Params() {
			if p.Tag != 0 {
				mi.Out = append(mi.Out, Param{Name: p.Name, Tag: p.Tag, Type: p.Type, Out: true})
			}
		}
	}
	return mi
}

// Endpoint is one method of a Service, typed by its request Req and its
// response Resp. Declare it once, at package level, with NewEndpoint; serve
// it with Handle; call it with Call or Send. An Endpoint is immutable and
// safe for concurrent use.
//
// The mapping onto TARS is one rule, checked when the endpoint is declared:
//
//   - Req is always a parameter list: a struct whose fields are the in
//     parameters, tagged 1, 2, …, n in order (Void for none). A field's
//     name= (or its Go name in lowerCamel) is the IDL parameter name;
//     require and default= are refused on parameters (TARS has neither:
//     every parameter is always written and must be present).
//   - Resp is the return value itself (tag 0), of any TARS type — a struct,
//     a vector, a scalar — unless it embeds Results; Void means void.
//   - A Resp that embeds Results is a result list: a field tagged 0 is the
//     return value (omit it for void) and the other fields are the out
//     parameters, tagged n+1, n+2, … after the in parameters.
//
// So `UserInfo getUser(int userId)` is NewEndpoint[GetUserArgs, UserInfo]
// with GetUserArgs{UserID int32 `tars:"1,name=userId"`}, and
// `int createUser(UserInfo userInfo, out UserInfo result)` has a Resp that
// embeds Results with Ret at tag 0 and Result at tag 2. A struct that is a
// parameter is never taken for a parameter list: only Req lists parameters,
// and only a Resp that says so with Results.
type Endpoint[Req, Resp any] struct {
	m *method
}

// NewEndpoint declares the method name on svc with request type Req and
// response type Resp (see Endpoint for the rule), qualified by opts
// (Idempotent). It panics with an error naming the type and field when the
// types break the rule or cannot be carried by TARS, and when name is
// declared twice: declarations run at start-up, and nothing is checked per
// call.
func NewEndpoint[Req, Resp any](svc *Service, name string, opts ...EndpointOption) *Endpoint[Req, Resp] {
	m, err := newMethod(svc, name, reflect.TypeFor[Req](), reflect.TypeFor[Resp](), opts)
	if err != nil {
		panic(err)
	}
	return &Endpoint[Req, Resp]{m: m}
}

// An EndpointOption qualifies an endpoint where it is declared
// (NewEndpoint), so that idl-export sees it too.
type EndpointOption interface {
	applyEndpoint(m *method)
}

type idempotentOption struct{}

func (idempotentOption) applyEndpoint(m *method) { m.idempotent = true }

// Idempotent declares an endpoint whose calls have the same effect run
// twice as run once (a read, or a write keyed by the caller). Only the calls
// of idempotent endpoints are retried or hedged (middleware/retry); their
// attempts go to endpoints the call has not tried yet while others remain.
// idl-export prints "// idempotent" above the method.
//
//	GetUser = tars.NewEndpoint[GetUserArgs, UserInfo](UserService, "getUser", tars.Idempotent)
var Idempotent EndpointOption = idempotentOption{}

// Name returns the method name.
func (e *Endpoint[Req, Resp]) Name() string { return e.m.name }

// Service returns the service the endpoint belongs to.
func (e *Endpoint[Req, Resp]) Service() *Service { return e.m.svc }

// Info describes the endpoint's parameters as the wire carries them.
func (e *Endpoint[Req, Resp]) Info() MethodInfo { return e.m.info() }

// DeclError reports a declaration that cannot stand: a service name that is
// not a TARS identifier (NewService; Method is then ""), or an endpoint that
// breaks the parameter rule or uses a type TARS cannot carry (NewEndpoint).
type DeclError struct {
	Service, Method string
	Err             error
}

// Error names the service or method and the cause.
func (e *DeclError) Error() string {
	if e.Method == "" {
		return fmt.Sprintf("tars: service %q: %v", e.Service, e.Err)
	}
	return fmt.Sprintf("tars: endpoint %s.%s: %v", e.Service, e.Method, e.Err)
}

// Unwrap returns the cause (often a *reflectcodec.TypeError).
func (e *DeclError) Unwrap() error { return e.Err }

func newMethod(svc *Service, name string, req, rsp reflect.Type, opts []EndpointOption) (*method, error) {
	if svc == nil {
		return nil, &DeclError{Method: name, Err: fmt.Errorf("nil service")}
	}
	fail := func(format string, args ...any) error {
		return &DeclError{Service: svc.name, Method: name, Err: fmt.Errorf(format, args...)}
	}
	if !ident.Valid(name) {
		return nil, fail("%q is not a valid TARS identifier", name)
	}
	if name == "tars_ping" {
		return nil, fail("tars_ping is built in")
	}
	m := &method{svc: svc, name: name, reqType: req, rspType: rsp, inNames: map[string]int{}}
	for _, o := range opts {
		if o == nil {
			return nil, fail("nil EndpointOption")
		}
		o.applyEndpoint(m)
	}
	if req.Kind() != reflect.Struct {
		return nil, fail("request type %v must be a struct listing the in parameters (tars.Void for none)", req)
	}
	in, err := reflectcodec.StructParams(req)
	if err != nil {
		return nil, &DeclError{Service: svc.name, Method: name, Err: err}
	}
	for i, p := range in.Params() {
		if int(p.Tag) != i+1 {
			return nil, fail("%v.%s: in parameters are tagged 1..n in order; tag %d found where %d belongs (a struct that is itself a parameter must be a field of the request)", req, p.GoName, p.Tag, i+1)
		}
		if _, dup := m.inNames[p.Name]; dup {
			return nil, fail("%v.%s: parameter name %q used twice", req, p.GoName, p.Name)
		}
		m.inNames[p.Name] = i
	}
	m.in = in
	n := len(in.Params())
	switch {
	case rsp == voidType:
	case rsp.Kind() == reflect.Struct && embedsResults(rsp):
		out, err := reflectcodec.StructParams(rsp)
		if err != nil {
			return nil, &DeclError{Service: svc.name, Method: name, Err: err}
		}
		next := n + 1
		for _, p := range out.Params() {
			if p.Tag == 0 {
				m.ret = p.Type
				continue
			}
			if int(p.Tag) != next {
				return nil, fail("%v.%s: out parameters are tagged %d.. after the %d in parameters; tag %d found where %d belongs", rsp, p.GoName, n+1, n, p.Tag, next)
			}
			if _, dup := m.inNames[p.Name]; dup || p.Name == "tars_ret" {
				return nil, fail("%v.%s: parameter name %q used twice", rsp, p.GoName, p.Name)
			}
			next++
		}
		m.out = out
	default:
		out, err := reflectcodec.ValueParams(rsp, 0, "tars_ret")
		if err != nil {
			return nil, &DeclError{Service: svc.name, Method: name, Err: err}
		}
		m.out, m.ret = out, rsp
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if slices.ContainsFunc(svc.eps, func(o *method) bool { return o.name == name }) {
		return nil, fail("declared twice")
	}
	svc.eps = append(svc.eps, m)
	return m, nil
}

func embedsResults(t reflect.Type) bool {
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type == resultsType {
			return true
		}
	}
	return false
}

// Call invokes the endpoint through c and waits for the result. The
// deadline of ctx (or the client's default timeout) bounds the call and is
// sent to the server as iTimeout. A non-zero iRet comes back as an *Error
// with the server's code and description.
func (e *Endpoint[Req, Resp]) Call(ctx context.Context, c *Client, req Req) (Resp, error) {
	var resp Resp
	err := c.invoke(ctx, e.m, &req, &resp, false)
	return resp, err
}

// Send invokes the endpoint one way: the request is written and no response
// is awaited (the server sends none).
func (e *Endpoint[Req, Resp]) Send(ctx context.Context, c *Client, req Req) error {
	return c.invoke(ctx, e.m, &req, nil, true)
}
