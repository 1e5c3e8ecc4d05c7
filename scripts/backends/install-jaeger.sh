#!/usr/bin/env bash
# Jaeger v2 (one binary, an OpenTelemetry Collector distribution with a zipkin receiver and
# memory storage), built from source with the Go module proxy into the cache. The module
# and build caches live there too, so a rebuild after a cache hit is quick.
set -euo pipefail
. "$(dirname "$0")/common.sh"
backend_lock jaeger
JAEGER_VERSION=v1.75.0
dest="$BACKENDS_CACHE/jaeger-$JAEGER_VERSION"
if [[ -x "$dest/jaeger" ]]; then
  echo "jaeger $JAEGER_VERSION: cached ($dest/jaeger)"
  exit 0
fi
mkdir -p "$dest"
export GOMODCACHE="$BACKENDS_CACHE/go/mod" GOCACHE="$BACKENDS_CACHE/go/build"
export GOFLAGS="${GOFLAGS:-} -modcacherw"
start=$SECONDS
# `go install …@version` refuses a module whose go.mod has replace directives (Jaeger's
# has), so the module is downloaded and built as the main module, with its own go.sum.
src="$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
(cd "$src" && go build -trimpath -o "$dest/jaeger.part" ./cmd/jaeger)
mv "$dest/jaeger.part" "$dest/jaeger"
echo "jaeger $JAEGER_VERSION: built in $((SECONDS - start)) s ($dest/jaeger)"
