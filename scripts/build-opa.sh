#!/usr/bin/env bash
# Build the Open Policy Agent binary from its Go module and print its path on
# stdout (progress goes to stderr).
#
# The binary lives at
#   ${CHAINSIGHT_CACHE:-$HOME/.cache/chainsight}/opa/<version>/opa
# and is reused while the version is unchanged: a second run does no Go work.
#
# Env:
#   OPA_VERSION        module version to build (default v1.22.3)
#   CHAINSIGHT_CACHE   cache root (default $HOME/.cache/chainsight)
set -euo pipefail

version="${OPA_VERSION:-v1.22.3}"
cache_root="${CHAINSIGHT_CACHE:-$HOME/.cache/chainsight}/opa"
dir="$cache_root/$version"
binary="$dir/opa"

log() { printf '[build-opa] %s\n' "$*" >&2; }

[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { log "OPA_VERSION must look like v1.2.3, got $version"; exit 1; }

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
command -v go >/dev/null || { log "go is not on PATH"; exit 1; }

mkdir -p "$cache_root"
# Several test processes may ask at once: one builds, the others wait on the
# lock and then find the finished binary.
exec 9>"$cache_root/.build.lock"
flock 9
if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

# Install into a scratch dir and move the binary into place only once it is
# complete, so an interrupted build never leaves a half binary.
work="$(mktemp -d "$cache_root/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "go install github.com/open-policy-agent/opa@$version — the first build takes several minutes"
start=$SECONDS
if ! GOBIN="$work" CGO_ENABLED=0 go install "github.com/open-policy-agent/opa@$version" >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  log "build failed"
  exit 1
fi
mkdir -p "$dir"
mv "$work/opa" "$binary.tmp"
mv "$binary.tmp" "$binary"
log "built in $((SECONDS - start))s"
echo "$binary"
