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

# The records every run reads: fetched from PhysioNet, each file checked against its published
# SHA-256, only where the directory ($MITDB_DIR / $NSTDB_DIR, default ../shared/data/*) has none.
for db in mitdb nstdb; do
  var="$(echo "$db" | tr a-z A-Z)_DIR"
  dir="${!var:-../shared/data/$db}"
  if ! compgen -G "$dir/*.hea" >/dev/null; then
    echo "setup: no $db records in $dir; fetching them from PhysioNet"
    npm run -s data -- fetch --db "$db" --dir "$dir"
  fi
done
