#!/usr/bin/env bash
# Prints the path of a Consul agent binary for the discovery/consul tests,
# building it once when it is missing.
#
# The agent is github.com/hashicorp/consul v1.15.4 (MPL-2.0; 1.16.6 and 1.17+
# are under the Business Source License and are not used), built from the
# small module in tools/consul, whose go.mod and go.sum pin it. The binary is
# cached outside the repo, in
#   ${GOTARS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gotars}/consul-v1.15.4/consul
# and is never committed. A cold build takes a few minutes; later runs print
# the cached path at once. It needs only Go. Concurrent runs are safe: they
# take a lock (flock, when present) and the binary appears by an atomic
# rename, so no run ever sees a half-written file.
#
# Usage: GOTARS_CONSUL=$(scripts/consul.sh)
set -euo pipefail

version=v1.15.4
root=$(cd "$(dirname "$0")/.." && pwd)
mod="$root/tools/consul"
cache="${GOTARS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gotars}"
dir="$cache/consul-$version"
bin="$dir/consul"

if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi

if ! grep -q "github.com/hashicorp/consul $version" "$mod/go.mod"; then
	echo "consul.sh: $mod/go.mod does not pin github.com/hashicorp/consul $version" >&2
	exit 1
fi

mkdir -p "$dir"

tmp=
build() {
	[[ -x "$bin" ]] && return 0 # another run built it while we waited for the lock
	tmp=$(mktemp "$dir/consul.tmp.XXXXXX")
	trap 'rm -f "$tmp"' EXIT
	echo "consul.sh: building Consul $version into $bin (a few minutes the first time)" >&2
	# Build output goes to stderr: stdout carries only the path.
	(cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$tmp" github.com/hashicorp/consul) >&2
	chmod 0755 "$tmp"
	mv -f "$tmp" "$bin"
	trap - EXIT
}

if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/.lock"
	flock 9
	build
	exec 9>&-
else
	build
fi

echo "$bin"
