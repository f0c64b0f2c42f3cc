package breaker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotars/tars"
	"github.com/sony/gobreaker/v2"
)

// Method is a set of circuit breakers for a client chain
// (tars.WithMiddleware): one per servant and method, made on a method's
// first call, so that there are as many as the methods the clients call
// (each a declared tars.Endpoint). While a method's breaker is open its
// calls fail at once, without being sent, with an error that is
// errors.Is(err, ErrOpen) and a *tars.Error of code tars.CodeAdapterNull.
//
// CodeAdapterNull is what a TARS client answers a call it has no endpoint
// to send to (gotars, when every endpoint is out of rotation or refused by
// an Endpoint breaker; TarsCpp and TarsGo when no adapter is active): an
// open method breaker says the same of the whole servant, locally, without
// asking the server. It is not CodeServerOverload (−9), which a server
// sends and which retry policies and dashboards read as "that server is
// busy".
//
// It is safe for concurrent use; share one across clients or give each
// client its own. In a server chain it does nothing.
type Method struct {
	s      Settings
	over   map[methodKey]*Settings // For and Skip; nil: no breaker
	policy func(servant, method string) (Settings, bool)
	g      group[methodKey]
}

type methodKey struct{ servant, method string }

// MethodOption sets the breaker of some methods apart from the others.
type MethodOption struct {
	key    methodKey
	s      *Settings
	policy func(servant, method string) (Settings, bool)
}

// For gives servant's method its own settings (zero fields: the
// defaults); method "" stands for the servant's methods without a For of
// their own.
func For(servant, method string, s Settings) MethodOption {
	return MethodOption{key: methodKey{servant, method}, s: &s}
}

// Skip leaves servant's method without a breaker (method "": the
// servant's methods without a For of their own).
func Skip(servant, method string) MethodOption { return MethodOption{key: methodKey{servant, method}} }

// Policy asks f for the settings of each method without a For or Skip of
// its own, when its breaker is made (at its first call): ok false, or
// settings out of range, leave the method without a breaker. At most one
// Policy is given.
func Policy(f func(servant, method string) (s Settings, ok bool)) MethodOption {
	return MethodOption{policy: f}
}

// NewMethod returns a Method with settings s (zero fields: the defaults)
// for every method but those opts set apart (For, Skip, then Policy), or
// an error naming a setting out of range.
func NewMethod(s Settings, opts ...MethodOption) (*Method, error) {
	s = s.withDefaults()
	if err := s.check(); err != nil {
		return nil, err
	}
	b := &Method{s: s, over: map[methodKey]*Settings{}, g: group[methodKey]{m: map[methodKey]*entry{}}}
	for _, o := range opts {
		if o.policy != nil {
			if b.policy != nil {
				return nil, errors.New("breaker: two Policy options")
			}
			b.policy = o.policy
			continue
		}
		if o.key.servant == "" {
			return nil, errors.New("breaker: For or Skip with an empty servant")
		}
		if _, dup := b.over[o.key]; dup {
			return nil, fmt.Errorf("breaker: %s.%s set apart twice", o.key.servant, o.key.method)
		}
		if o.s != nil {
			os := o.s.withDefaults()
			if err := os.check(); err != nil {
				return nil, fmt.Errorf("breaker: For(%s, %s): %w", o.key.servant, o.key.method, err)
			}
			o.s = &os
		}
		b.over[o.key] = o.s
	}
	return b, nil
}

func (b *Method) settings(k methodKey) *Settings {
	if s, ok := b.over[k]; ok {
		return s
	}
	if s, ok := b.over[methodKey{k.servant, ""}]; ok {
		return s
	}
	if b.policy != nil {
		s, ok := b.policy(k.servant, k.method)
		if !ok {
			return nil
		}
		if s = s.withDefaults(); s.check() != nil {
			return nil
		}
		return &s
	}
	return &b.s
}

// Middleware returns the client middleware that runs calls through the
// breakers. Put it inside (after) a client rate limiter, so that calls the
// limiter refuses are never counted. Outside a retry middleware it counts
// each call once, by its final outcome; inside, it counts every attempt
// and refuses the attempts once open.
func (b *Method) Middleware() tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			if call.Server || ctx.Err() != nil {
				return next(ctx, call)
			}
			k := methodKey{call.Servant, call.Method}
			e := b.g.get(k, time.Time{}, func() *entry {
				s := b.settings(k)
				if s == nil {
					return nil
				}
				name := call.Servant + "." + call.Method
				return newEntry(*s, name, tars.Errorf(tars.CodeAdapterNull, "%s: circuit breaker open: %w", name, ErrOpen))
			})
			if e == nil {
				return next(ctx, call)
			}
			return e.guard(ctx, call, next, func(gb error) error {
				if errors.Is(gb, gobreaker.ErrTooManyRequests) {
					return tars.Errorf(tars.CodeAdapterNull, "%s.%s: circuit breaker half-open, its probes in flight: %w", call.Servant, call.Method, ErrOpen)
				}
				return e.openErr
			})
		}
	}
}

// State returns the state of servant.method's breaker: StateClosed for a
// method not called yet or without a breaker.
func (b *Method) State(servant, method string) State {
	if e := b.g.lookup(methodKey{servant, method}); e != nil {
		return e.cb.State()
	}
	return StateClosed
}

// Counts returns what servant.method's breaker has counted in its current
// window.
func (b *Method) Counts(servant, method string) Counts {
	if e := b.g.lookup(methodKey{servant, method}); e != nil {
		return e.cb.Counts()
	}
	return Counts{}
}

// String names the breaker set, for logs.
func (b *Method) String() string { return fmt.Sprintf("breaker.Method(%d methods)", b.g.len()) }
