#!/usr/bin/env bash
# Apache Kafka's broker (KRaft mode, for test/support/backends/kafka.ts): kafka_2.13 and its
# runtime dependencies from Maven Central (scripts/backends/kafka/pom.xml), copied once into
# $BACKENDS_CACHE/kafka-<version>/libs. A second run finds the marker and returns at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")"
dest="$BACKENDS_CACHE/kafka-$version"
if [[ -f "$dest/.installed" ]]; then
  echo "kafka $version: cached in $dest"
  exit 0
fi
backend_lock kafka
if [[ -f "$dest/.installed" ]]; then exit 0; fi
command -v java >/dev/null || { echo "install-kafka.sh: java (17 or later) is needed" >&2; exit 1; }
if ! command -v mvn >/dev/null; then
  # Maven resolves the broker's runtime dependencies; Debian's package when we may install it.
  if [[ "$(id -u)" != 0 ]]; then
    echo "install-kafka.sh: mvn is needed to fetch the broker's jars (apt-get install maven)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven
fi
rm -rf "$dest.part"
mkdir -p "$dest.part/libs"
mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest.part/libs"
cp "$here/kafka/log4j2.properties" "$dest.part/"
rm -rf "$dest"
mv "$dest.part" "$dest"
touch "$dest/.installed"
echo "kafka $version: installed in $dest ($(ls "$dest/libs" | wc -l) jars)"
