package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
)

// zombies tells the keepAlive which adapters are stuck, as TarsGo's main
// loop does (tars/application.go, TarsServer.IsZombie): an adapter whose
// servant runs as many handlers as it may (max_invoke) and started none
// for server.tars.zombie_timeout gets no keepAlive, so that tarsnode
// restarts the server.
type zombies struct {
	timeout   time.Duration
	byServant map[string]*load
	byAdapter map[string]*load
}

// load counts one servant's running handlers and when the last began.
type load struct {
	limit   int64
	running atomic.Int64
	last    atomic.Int64 // unix nanoseconds
}

func newZombies(timeout time.Duration) *zombies {
	return &zombies{timeout: timeout, byServant: map[string]*load{}, byAdapter: map[string]*load{}}
}

func (z *zombies) add(servant, adapter string, limit int) {
	l := &load{limit: int64(limit)}
	l.last.Store(time.Now().UnixNano())
	z.byServant[servant], z.byAdapter[adapter] = l, l
}

// middleware counts the calls each servant runs.
func (z *zombies) middleware(next tars.Invoker) tars.Invoker {
	return func(ctx context.Context, call *tars.Call) error {
		l := z.byServant[call.Servant]
		if l == nil {
			return next(ctx, call)
		}
		l.last.Store(time.Now().UnixNano())
		l.running.Add(1)
		defer l.running.Add(-1)
		return next(ctx, call)
	}
}

// alive reports whether adapter is not a zombie.
func (z *zombies) alive(adapter string) bool {
	l := z.byAdapter[adapter]
	if l == nil || l.limit <= 0 || z.timeout <= 0 {
		return true
	}
	return l.running.Load() < l.limit || time.Since(time.Unix(0, l.last.Load())) <= z.timeout
}
