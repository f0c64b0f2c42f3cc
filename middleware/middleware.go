// Package middleware holds gotars middleware that plugs into servers and
// clients with tars.WithMiddleware: recovery from panics and structured
// logging with log/slog. Each works in server and client chains alike.
package middleware

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/gotars/tars"
)

// Recovery turns a panic below it into a *tars.Error with
// tars.CodeServerUnknownErr and logs it, with its stack, to l (nil: not
// logged). The server recovers from handler panics on its own; Recovery
// adds the log record and also guards client chains and other middleware.
func Recovery(l *slog.Logger) tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if l != nil {
						l.LogAttrs(ctx, slog.LevelError, "tars: panic",
							slog.String("servant", call.Servant), slog.String("method", call.Method),
							slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
					}
					err = tars.Errorf(tars.CodeServerUnknownErr, "panic: %v", r)
				}
			}()
			return next(ctx, call)
		}
	}
}

// Logging writes one record per call to l: servant, method, packet version,
// request id, peer, duration and return code; at Info for success and for
// calls their caller cancelled (errors.Is(err, context.Canceled)), and at
// Warn, with the error, for failures.
func Logging(l *slog.Logger) tars.Middleware {
	return func(next tars.Invoker) tars.Invoker {
		return func(ctx context.Context, call *tars.Call) error {
			start := time.Now()
			err := next(ctx, call)
			side := "client"
			if call.Server {
				side = "server"
			}
			attrs := []slog.Attr{
				slog.String("side", side),
				slog.String("servant", call.Servant),
				slog.String("method", call.Method),
				slog.Int("version", int(call.Version)),
				slog.Int("request_id", int(call.RequestID)),
				slog.Duration("duration", time.Since(start)),
				slog.Int("code", int(tars.CodeOf(err))),
			}
			if call.Peer != nil {
				attrs = append(attrs, slog.String("peer", call.Peer.String()))
			}
			if call.Oneway {
				attrs = append(attrs, slog.Bool("oneway", true))
			}
			if err != nil && errors.Is(err, context.Canceled) {
				// The caller gave up: not a failure of either side.
				attrs = append(attrs, slog.Bool("canceled", true))
				l.LogAttrs(ctx, slog.LevelInfo, "tars call canceled", attrs...)
				return err
			}
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
				l.LogAttrs(ctx, slog.LevelWarn, "tars call failed", attrs...)
				return err
			}
			l.LogAttrs(ctx, slog.LevelInfo, "tars call", attrs...)
			return nil
		}
	}
}
