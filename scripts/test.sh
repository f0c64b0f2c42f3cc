#!/usr/bin/env bash
# The whole test suite, as README.md gives it and CI (.ci/run) runs it.
# It needs only Go: the interop module downloads TarsGo and runs tars2go as a
# `go tool`; scripts/consul.sh builds the Consul agent (v1.15.4, MPL-2.0) once
# into a cache outside the repo; so a fresh machine needs nothing installed
# beforehand.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== root module: go vet, go test -race"
go vet ./...
go test -race -count=1 ./...

echo "== interop module (TarsGo peers)"
(cd interop && go vet ./... && go test -race -count=1 -timeout 20m ./...)

echo "== middleware/tarsotel module (OpenTelemetry traces and metrics, Prometheus)"
(cd middleware/tarsotel && go vet ./... && go test -race -count=1 -timeout 10m ./...)
(cd middleware/tarsotel/interop && go vet ./... && go test -race -count=1 -timeout 10m ./...)

echo "== discovery/consul module (a real Consul v1.15.4 agent, built once by scripts/consul.sh)"
GOTARS_CONSUL=$(scripts/consul.sh)
export GOTARS_CONSUL
(cd discovery/consul && go vet ./... && go test -race -count=1 -timeout 10m ./...)

echo "== example/userservice/consul module (the example over a real Consul agent)"
(cd example/userservice/consul && go vet ./... && go test -race -count=1 -timeout 10m ./...)

echo "== stress module (hostile peers and discovery faults; no -race: it measures memory)"
scripts/stress.sh
