#!/usr/bin/env bash
# The zipkin2 Java codec (io.zipkin.zipkin2:zipkin) and test/support/backends/codec/ZipkinDecode.java
# compiled against it. 3.6.0 is the newest zipkin2 library on Central (the 3.6.1 server bundles
# a 3.6.1 that was not published on its own). Recompiled when the source changes.
set -euo pipefail
. "$(dirname "$0")/common.sh"
backend_lock codec
CODEC_VERSION=3.6.0
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/test/support/backends/codec/ZipkinDecode.java"
jar="$BACKENDS_CACHE/zipkin-$CODEC_VERSION.jar"
out="$BACKENDS_CACHE/codec-$CODEC_VERSION"
start=$SECONDS
fetch_maven io.zipkin.zipkin2 zipkin "$CODEC_VERSION" "" "$jar"
stamp="$(sha1sum "$src" | cut -c1-40)"
if [[ -f "$out/ZipkinDecode.class" && "$(cat "$out/source.sha1" 2>/dev/null)" == "$stamp" ]]; then
  echo "zipkin2 codec $CODEC_VERSION: cached ($out)"
  exit 0
fi
rm -rf "$out.part" && mkdir -p "$out.part"
javac -nowarn --release 17 -cp "$jar" -d "$out.part" "$src"
echo "$stamp" > "$out.part/source.sha1"
rm -rf "$out" && mv "$out.part" "$out"
echo "zipkin2 codec $CODEC_VERSION: compiled in $((SECONDS - start)) s ($out)"
