package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes (see the package doc).
const (
	ExitOK      = 0 // a clean stop
	ExitFailure = 1 // a failure while running
	ExitUsage   = 2 // a bad configuration or command line
)

// ExitCode returns the exit code for what a program's run returned: 0 for
// nil, context.Canceled and flag.ErrHelp; 2 for a *UsageError; 1 for any
// other error.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitFailure
}

// SignalContext returns a context cancelled by the first SIGTERM or SIGINT
// (signal.NotifyContext). From then on those signals have their default
// effect again, so a second one ends a program whose graceful shutdown
// hangs. The stop function releases the signals.
func SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// Main runs run with a context SIGTERM and SIGINT cancel (SignalContext),
// prints the error it returns to stderr, and exits with its ExitCode.
// A program's main is then:
//
//	func main() { app.Main(run) }
//
//	func run(ctx context.Context) error {
//		cfg, err := loader.Load()
//		if err != nil {
//			return app.Usage(err)
//		}
//		a, err := app.New(cfg)
//		…
//		return a.Run(ctx)
//	}
func Main(run func(ctx context.Context) error) {
	os.Exit(mainCode(run, os.Stderr))
}

func mainCode(run func(ctx context.Context) error, stderr io.Writer) int {
	ctx, stop := SignalContext(context.Background())
	defer stop()
	err := run(ctx)
	code := ExitCode(err)
	if err != nil && code != ExitOK {
		fmt.Fprintln(stderr, err)
	}
	return code
}
