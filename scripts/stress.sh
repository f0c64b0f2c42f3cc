#!/usr/bin/env bash
# The attacks of issue 7 as bounded tests (stress/README.md): a server in a
# child process under hostile and broken peers over loopback, each test
# asserting its bound. Linux only (it reads /proc); a few minutes on 2 cores.
# Deliberately without -race: RSS and goroutine bounds mean nothing under the
# race detector.
set -euo pipefail
cd "$(dirname "$0")/../stress"

echo "== stress module: go vet, go test (no -race)"
go vet ./...
go test -count=1 -timeout 15m ./...
