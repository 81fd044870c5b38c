#!/usr/bin/env bash
# Everything a fresh Debian machine needs before `npm start` or `npm test`: librdkafka1 (the
# embedded Kafka broker is its mock cluster), chromium (the dashboard's end-to-end tests and
# benchmarks drive it) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ldconfig -p | grep -q 'librdkafka.so.1 ' || missing+=(librdkafka1)
# the browser only matters to the tests and benchmarks: npm start serves the dashboard without it
if [ "${ECG_SKIP_BROWSER:-}" != "1" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
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
