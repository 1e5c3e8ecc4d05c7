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
exec 9>"$BACKENDS_CACHE/kafka.lock"
flock 9
if [[ -f "$dest/.installed" ]]; then exit 0; fi
command -v java >/dev/null || { echo "install-kafka.sh: java (17 or later) is needed" >&2; exit 1; }
command -v mvn >/dev/null || { echo "install-kafka.sh: mvn is needed to fetch the broker's jars" >&2; exit 1; }
rm -rf "$dest.part"
mkdir -p "$dest.part/libs"
mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest.part/libs"
cp "$here/kafka/log4j2.properties" "$dest.part/"
rm -rf "$dest"
mv "$dest.part" "$dest"
touch "$dest/.installed"
echo "kafka $version: installed in $dest ($(ls "$dest/libs" | wc -l) jars)"
