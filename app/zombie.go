package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gotars/tars"
)

// zombies tells the keepAlive which adapters are stuck, as TarsGo's main
// loop does (tars/application.go, TarsServer.IsZombie): an adapter whose
// servant runs as many handlers as it may (the server's MaxInvoke for it:
// Server.ServantLoad) and started none for server.tars.zombie_timeout gets
// no keepAlive, so that tarsnode restarts the server.
type zombies struct {
	timeout   time.Duration
	srv       *tars.Server
	byServant map[string]*atomic.Int64 // when a call of the servant last started (unix nanoseconds)
	servantOf map[string]string        // adapter → servant
}

func newZombies(timeout time.Duration) *zombies {
	return &zombies{timeout: timeout, byServant: map[string]*atomic.Int64{}, servantOf: map[string]string{}}
}

func (z *zombies) add(servant, adapter string) {
	last := new(atomic.Int64)
	last.Store(time.Now().UnixNano())
	z.byServant[servant], z.servantOf[adapter] = last, servant
}

// middleware notes when each servant's calls start.
func (z *zombies) middleware(next tars.Invoker) tars.Invoker {
	return func(ctx context.Context, call *tars.Call) error {
		if last := z.byServant[call.Servant]; last != nil {
			last.Store(time.Now().UnixNano())
		}
		return next(ctx, call)
	}
}

// alive reports whether adapter is not a zombie.
func (z *zombies) alive(adapter string) bool {
	servant, ok := z.servantOf[adapter]
	if !ok || z.timeout <= 0 || z.srv == nil {
		return true
	}
	running, limit, ok := z.srv.ServantLoad(servant)
	if !ok || limit <= 0 || running < limit {
		return true
	}
	return time.Since(time.Unix(0, z.byServant[servant].Load())) <= z.timeout
}
