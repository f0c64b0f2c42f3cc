#!/usr/bin/env bash
# The whole test suite, as README.md gives it and CI (.ci/run) runs it.
# It needs only Go: the interop module downloads TarsGo and runs tars2go as a
# `go tool`, so a fresh machine needs nothing installed beforehand.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== root module: go vet, go test -race"
go vet ./...
go test -race -count=1 ./...

echo "== interop module (TarsGo peers)"
(cd interop && go vet ./... && go test -race -count=1 -timeout 20m ./...)
