#!/usr/bin/env bash
# Everything a fresh Debian machine needs before `npm start` or `npm test`:
# librdkafka1 (the embedded Kafka broker is its mock cluster) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ldconfig -p | grep -q 'librdkafka.so.1 '; then
  echo "setup: installing Debian's librdkafka1 (embedded Kafka broker)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq librdkafka1
fi
npm ci --no-audit --no-fund
