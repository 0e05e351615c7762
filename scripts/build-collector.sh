#!/usr/bin/env bash
# Build the otelcol-chainsight distribution from collectors/builder-config.yaml
# and print the binary's path on stdout (progress goes to stderr).
#
# The binary lives at
#   ${CHAINSIGHT_CACHE:-$HOME/.cache/chainsight}/otelcol/<sha256 of manifest>/otelcol-chainsight
# and is reused as long as the manifest is unchanged: a second run does no Go
# work at all. Go's module and build caches stay in their usual places, so a
# rebuild after a manifest edit only compiles what changed.
#
# Env:
#   CHAINSIGHT_CACHE       cache root (default $HOME/.cache/chainsight)
#   COLLECTOR_MANIFEST     manifest to build (default collectors/builder-config.yaml)
#   COLLECTOR_BUILD_VERBOSE=1  show the builder's own log
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="${COLLECTOR_MANIFEST:-$repo_root/collectors/builder-config.yaml}"
cache_root="${CHAINSIGHT_CACHE:-$HOME/.cache/chainsight}/otelcol"

log() { printf '[build-collector] %s\n' "$*" >&2; }

[[ -f "$manifest" ]] || { log "manifest not found: $manifest"; exit 1; }
command -v go >/dev/null || { log "go is not on PATH"; exit 1; }

# The distribution name and the builder version both come from the manifest,
# so its hash alone identifies the binary. The builder is released in lockstep
# with the core modules; the OTLP receiver's version names that release.
dist_name="$(sed -n 's/^  name:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$manifest" | head -n1)"
ocb_version="$(sed -n 's#.*go\.opentelemetry\.io/collector/receiver/otlpreceiver[[:space:]]\{1,\}\(v[0-9][^[:space:]]*\).*#\1#p' "$manifest" | head -n1)"
[[ -n "$dist_name" ]] || { log "no dist.name in $manifest"; exit 1; }
[[ -n "$ocb_version" ]] || { log "cannot derive the builder version from the otlpreceiver line in $manifest"; exit 1; }

hash="$(sha256sum "$manifest" | cut -d' ' -f1)"
dist_dir="$cache_root/$hash"
binary="$dist_dir/$dist_name"

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

mkdir -p "$cache_root"
# Several test processes may ask for the binary at once: one builds, the
# others wait on the lock and then find the finished binary.
exec 9>"$cache_root/.build.lock"
flock 9
if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

ocb_dir="$cache_root/builder/$ocb_version"
ocb="$ocb_dir/builder"
if [[ ! -x "$ocb" ]]; then
  log "installing go.opentelemetry.io/collector/cmd/builder@$ocb_version"
  mkdir -p "$ocb_dir"
  GOBIN="$ocb_dir" go install "go.opentelemetry.io/collector/cmd/builder@$ocb_version"
fi

# Build in a scratch dir next to the final one and move the binary into place
# only once it is complete, so an interrupted build never leaves a half binary.
work="$(mktemp -d "$cache_root/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# ocb takes the output directory from the manifest only: write a copy with
# dist.output_path pointing at the scratch dir.
awk -v out="$work/src" '
  /^  output_path:/ { next }
  { print }
  /^dist:[[:space:]]*$/ { print "  output_path: " out }
' "$manifest" >"$work/manifest.yaml"

log "building $dist_name (manifest sha256 ${hash:0:12}) — the first build takes several minutes"
start=$SECONDS
ocb_args=(--config "$work/manifest.yaml")
[[ "${COLLECTOR_BUILD_VERBOSE:-0}" == 1 ]] && ocb_args+=(--verbose)
if ! "$ocb" "${ocb_args[@]}" >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  log "build failed"
  exit 1
fi
[[ "${COLLECTOR_BUILD_VERBOSE:-0}" == 1 ]] && cat "$work/build.log" >&2

mkdir -p "$dist_dir"
cp "$manifest" "$dist_dir/builder-config.yaml"
mv "$work/src/$dist_name" "$binary.tmp"
mv "$binary.tmp" "$binary"
log "built in $((SECONDS - start))s"
echo "$binary"
