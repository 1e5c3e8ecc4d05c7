#!/usr/bin/env bash
# The Zipkin server: the exec jar of io.zipkin:zipkin-server from Maven Central (needs Java 17).
set -euo pipefail
. "$(dirname "$0")/common.sh"
backend_lock zipkin
ZIPKIN_VERSION=3.6.1
dest="$BACKENDS_CACHE/zipkin-server-$ZIPKIN_VERSION-exec.jar"
start=$SECONDS
fetch_maven io.zipkin zipkin-server "$ZIPKIN_VERSION" exec "$dest"
echo "zipkin-server $ZIPKIN_VERSION: $dest ($((SECONDS - start)) s)"
