#!/usr/bin/env bash
# Shared by the install-*.sh scripts: where a backend is fetched or built once per machine,
# and a lock so two installs of the same backend (two test runs) do not race.
set -euo pipefail
BACKENDS_CACHE="${GATEWAY_ZIPKIN_CACHE:-$HOME/.cache/gateway-zipkin}"
mkdir -p "$BACKENDS_CACHE"

# fetch_maven GROUP ARTIFACT VERSION [CLASSIFIER] DEST: one artifact from Maven Central,
# checked against Central's .sha1 file.
fetch_maven() {
  local group="$1" artifact="$2" version="$3" classifier="$4" dest="$5"
  local base="https://repo.maven.apache.org/maven2/${group//.//}/${artifact}/${version}"
  local file="${artifact}-${version}${classifier:+-$classifier}.jar"
  if [[ -s "$dest" ]]; then return 0; fi
  curl -fsSL --retry 3 -o "$dest.part" "$base/$file"
  local want have
  want="$(curl -fsSL --retry 3 "$base/$file.sha1" | cut -c1-40)"
  have="$(sha1sum "$dest.part" | cut -c1-40)"
  if [[ "$want" != "$have" ]]; then
    echo "checksum mismatch for $file: want $want, have $have" >&2
    rm -f "$dest.part"
    return 1
  fi
  mv "$dest.part" "$dest"
}

# backend_lock NAME: holds an exclusive lock on $BACKENDS_CACHE/NAME.lock until the calling
# script exits, so two runs installing the same backend wait for each other.
backend_lock() {
  exec {BACKEND_LOCK_FD}>"$BACKENDS_CACHE/$1.lock"
  flock "$BACKEND_LOCK_FD"
}
