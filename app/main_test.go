package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestMainCode: the exit code and message for what run returns, and a
// SIGTERM ending run's context (the process is not killed: the signal is
// caught while run runs).
func TestMainCode(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context) error
		code int
		msg  string
	}{
		{"clean", func(context.Context) error { return nil }, ExitOK, ""},
		{"help", func(context.Context) error { return Usage(flag.ErrHelp) }, ExitOK, ""},
		{"failure", func(context.Context) error { return errors.New("listen: address in use") }, ExitFailure, "listen: address in use\n"},
		{"usage", func(context.Context) error { return Usage(errors.New("config: app.yaml: client.timout: unknown key")) }, ExitUsage,
			"config: app.yaml: client.timout: unknown key\n"},
		{"sigterm", func(ctx context.Context) error {
			if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Second):
				return errors.New("SIGTERM did not end the context")
			}
		}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := mainCode(tt.run, &stderr); code != tt.code || stderr.String() != tt.msg {
				t.Errorf("code %d, stderr %q; want %d, %q", code, stderr.String(), tt.code, tt.msg)
			}
		})
	}
}
