#!/usr/bin/env bash
# Fetches or builds every real backend the backend suite runs, once per machine, into
# ${GATEWAY_ZIPKIN_CACHE:-$HOME/.cache/gateway-zipkin}. Each install-*.sh is idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/install-*.sh; do
  echo "== $(basename "$script")"
  start=$SECONDS
  bash "$script"
  echo "   $(basename "$script"): $((SECONDS - start)) s"
done
