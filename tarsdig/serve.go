package tarsdig

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/dig"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/discovery"
	"github.com/gotars/tars/transport"
)

// Listeners are the sockets of a configuration's servants, bound by Listen
// and served by Serve.
type Listeners struct {
	servants map[string]*listener // by servant name
	all      []*listener          // distinct sockets, in servant order
}

type listener struct {
	addr transport.Address // as configured
	ln   net.Listener      // tcp and ssl
	pc   net.PacketConn    // udp
	tls  *tls.Config       // ssl
}

func (l *listener) close() error {
	if l.ln != nil {
		return l.ln.Close()
	}
	return l.pc.Close()
}

func (l *listener) netAddr() net.Addr {
	if l.ln != nil {
		return l.ln.Addr()
	}
	return l.pc.LocalAddr()
}

// Listen binds the endpoint of every servant of cfg (servants.<s>.endpoint,
// TARS syntax): tcp and ssl endpoints a TCP listener (ssl with the
// servant's TLS files, else server.tls), udp endpoints a UDP socket. Two
// servants configured with the same host and a fixed port share one
// socket, as a TARS server's adapters on one port would. On an error
// nothing stays bound. Port 0 takes a free port; Addr tells which.
func Listen(cfg *config.Config) (*Listeners, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cfg.Servants))
	for n := range cfg.Servants {
		names = append(names, n)
	}
	slices.Sort(names)
	ls := &Listeners{servants: map[string]*listener{}}
	byAddr := map[string]*listener{}
	for _, n := range names {
		sv := cfg.Servants[n]
		if sv.Protocol == "not_tars" {
			ls.Close()
			return nil, fmt.Errorf("tarsdig: servants.%s.protocol: not_tars is not served (gotars serves TARS, TUP and JSON packets)", n)
		}
		a, err := transport.ParseAddress(sv.Endpoint)
		if err != nil {
			ls.Close()
			return nil, fmt.Errorf("tarsdig: servants.%s.endpoint: %w", n, err)
		}
		key := a.Network + " " + a.ListenHostPort()
		if l, ok := byAddr[key]; ok && a.Port != 0 {
			ls.servants[n] = l
			continue
		}
		l := &listener{addr: a}
		switch a.Network {
		case "udp":
			l.pc, err = net.ListenPacket("udp", a.ListenHostPort())
		case "ssl":
			t := sv.TLS
			if t.Cert == "" {
				t = cfg.Server.TLS
			}
			if l.tls, err = t.ServerConfig(); err == nil {
				l.ln, err = net.Listen("tcp", a.ListenHostPort())
			}
		default:
			l.ln, err = net.Listen("tcp", a.ListenHostPort())
		}
		if err != nil {
			ls.Close()
			return nil, fmt.Errorf("tarsdig: servants.%s.endpoint %q: %w", n, sv.Endpoint, err)
		}
		byAddr[key] = l
		ls.servants[n] = l
		ls.all = append(ls.all, l)
	}
	return ls, nil
}

// Addr returns where servant is bound, nil when it is not.
func (ls *Listeners) Addr(servant string) net.Addr {
	if l, ok := ls.servants[servant]; ok {
		return l.netAddr()
	}
	return nil
}

// Endpoint returns servant's endpoint in TARS syntax with the port it was
// bound to (a configured port 0 replaced), for clients to dial: host is
// the configured one, unless it is unspecified (0.0.0.0, ::) and host is
// given. It returns "" when servant is not bound.
func (ls *Listeners) Endpoint(servant, host string) string {
	l, ok := ls.servants[servant]
	if !ok {
		return ""
	}
	return ls.address(l, host).String()
}

func (ls *Listeners) address(l *listener, host string) transport.Address {
	a := l.addr
	if _, port, err := net.SplitHostPort(l.netAddr().String()); err == nil {
		a.Port, _ = strconv.Atoi(port)
	}
	if ip := net.ParseIP(a.Host); (ip == nil || ip.IsUnspecified()) && host != "" {
		a.Host = host
	}
	return a
}

// Close closes every socket. Serve closes them itself when it shuts down.
func (ls *Listeners) Close() error {
	var errs []error
	for _, l := range ls.all {
		if err := l.close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Serve serves srv on every socket of ls until ctx ends or a socket fails,
// then shuts srv down gracefully, waiting at most grace (tars.Server
// Shutdown: answers go out, clients are told to reconnect), and returns
// once every serving goroutine has. It returns nil after a shutdown that
// ctx asked for and that finished in time, else the first error.
func Serve(ctx context.Context, srv *tars.Server, ls *Listeners, grace time.Duration) error {
	errc := make(chan error, len(ls.all))
	var wg sync.WaitGroup
	for _, l := range ls.all {
		wg.Go(func() {
			var err error
			switch {
			case l.pc != nil:
				err = srv.ServePacket(l.pc)
			case l.tls != nil:
				err = srv.ServeTLS(l.ln, l.tls)
			default:
				err = srv.Serve(l.ln)
			}
			if err != nil && !errors.Is(err, tars.ErrServerClosed) {
				errc <- fmt.Errorf("tarsdig: serving %s: %w", l.addr, err)
			}
		})
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	ls.Close() // sockets Shutdown did not own (a Serve that had not begun)
	wg.Wait()
	if first != nil {
		return first
	}
	if err != nil && !errors.Is(err, tars.ErrServerClosed) {
		return fmt.Errorf("tarsdig: shutdown: %w", err)
	}
	return nil
}

// RunParams are what Run takes from the container.
type RunParams struct {
	dig.In
	Config    *config.Config
	Server    *tars.Server
	Clients   *Clients            `optional:"true"` // closed once the server has shut down
	Registrar discovery.Registrar `optional:"true"` // the servants are announced to it while they are served
	Logger    *slog.Logger        `optional:"true"`
}

// RunOption configures Run.
type RunOption func(*runConfig)

type runConfig struct {
	ready func(*Listeners)
}

// WithReady has Run call f once every servant's socket is bound, before it
// serves: to learn the ports a configuration's port 0 took.
func WithReady(f func(*Listeners)) RunOption {
	return func(r *runConfig) { r.ready = f }
}

// Run invokes the application in c: it binds the servants' endpoints of the
// container's *config.Config (Listen), announces them to the container's
// discovery.Registrar if it has one (host: the endpoint's, or
// server.local_ip for 0.0.0.0), serves the container's *tars.Server until
// ctx ends (Serve, within server.grace_timeout), then closes the
// container's Clients. It returns nil after a graceful shutdown.
func Run(ctx context.Context, c *dig.Container, opts ...RunOption) error {
	var rc runConfig
	for _, o := range opts {
		o(&rc)
	}
	return c.Invoke(func(p RunParams) (err error) {
		if p.Clients != nil {
			defer func() { err = errors.Join(err, p.Clients.Close()) }()
		}
		ls, err := Listen(p.Config)
		if err != nil {
			return err
		}
		if rc.ready != nil {
			rc.ready(ls)
		}
		if p.Registrar != nil {
			if err := announce(ctx, p, ls); err != nil {
				// Shutdown withdraws what was registered before the error.
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Config.Server.GraceTimeout)
				defer cancel()
				return errors.Join(err, ignoreClosed(p.Server.Shutdown(sctx)), ls.Close())
			}
		}
		if p.Logger != nil {
			for n := range ls.servants {
				p.Logger.Info("serving", "servant", n, "addr", ls.Addr(n).String())
			}
		}
		return Serve(ctx, p.Server, ls, p.Config.Server.GraceTimeout)
	})
}

func ignoreClosed(err error) error {
	if errors.Is(err, tars.ErrServerClosed) {
		return nil
	}
	return err
}

func announce(ctx context.Context, p RunParams, ls *Listeners) error {
	names := make([]string, 0, len(ls.servants))
	for n := range ls.servants {
		names = append(names, n)
	}
	slices.Sort(names)
	var regs []discovery.Registration
	for _, n := range names {
		a := ls.address(ls.servants[n], p.Config.Server.LocalIP)
		if ip := net.ParseIP(a.Host); ip != nil && ip.IsUnspecified() {
			return fmt.Errorf("tarsdig: servant %s listens on %s: set server.local_ip to announce it", n, a.Host)
		}
		regs = append(regs, discovery.Registration{Servant: n, Endpoint: discovery.FromAddress(a)})
	}
	return p.Server.Announce(ctx, p.Registrar, regs...)
}
