#!/usr/bin/env bash
# RabbitMQ for test/support/backends/rabbitmq.ts: Debian's rabbitmq-server package, installed
# only when rabbitmq-server is missing. The suite runs its own private node, never the system
# service.
set -euo pipefail
if command -v rabbitmq-server >/dev/null || [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
  echo "rabbitmq-server: $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo present)"
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "install-rabbitmq.sh: rabbitmq-server is missing; install it as root (apt-get install rabbitmq-server)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d may refuse to start the system service; the suite does not need it.
apt-get install -y -qq --no-install-recommends rabbitmq-server
echo "rabbitmq-server: $(dpkg-query -W -f='${Version}' rabbitmq-server) installed"
