#!/usr/bin/env bash
# The gateway's TPS with audit off (log: [none]), the default classes, ALL,
# and the default classes in durable mode, interleaved; pgbench select-only
# and the simple-update mix (prepared and simple protocol), 16 clients.
#
#   bash bench/audit-overhead.sh [SECONDS_PER_RUN] [REPETITIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
REPS=${2:-3}
ROOT=$(mktemp -d /tmp/pgw-auditbench-XXXXXX)
chmod 711 "$ROOT"
PORT=16532
PASSWORD=bench-password-$RANDOM$RANDOM
command -v pgbench >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }
npm run build --silent
cleanup() { node dist/src/cli/main.js down --data-dir "$ROOT/gw" >/dev/null 2>&1; rm -rf "$ROOT"; }
trap cleanup EXIT

mkdir -p "$ROOT/gw"
policy() {
  case "$1" in
    off) printf 'audit:\n  log: [none]\n' ;;
    default) printf 'audit:\n  log: [connection, ddl, role, write]\n' ;;
    all) printf 'audit:\n  log: [all]\n' ;;
    durable) printf 'audit:\n  log: [connection, ddl, role, write]\n  durable: true\n' ;;
  esac > "$ROOT/gw/pgwarden.yaml"
}
start() { policy "$1"; PGWARDEN_ADMIN_PASSWORD=$PASSWORD node dist/src/cli/main.js up --detach --data-dir "$ROOT/gw" --port $PORT >/dev/null; }
stop() { node dist/src/cli/main.js down --data-dir "$ROOT/gw" >/dev/null; }
export PGPASSWORD=$PASSWORD
CONN="host=localhost port=$PORT user=pgwarden dbname=postgres sslmode=verify-full sslrootcert=$ROOT/gw/tls/ca.crt"
start off; pgbench -i -q -s 10 "$CONN" >/dev/null 2>&1; stop

declare -A TPS
POLICIES=("off" "default" "all" "durable")
WORKLOADS=("-S -M prepared -c 16" "-N -M prepared -c 16" "-N -M simple -c 16")
for rep in $(seq 1 "$REPS"); do
  for policy in "${POLICIES[@]}"; do
    start "$policy"
    for workload in "${WORKLOADS[@]}"; do
      # shellcheck disable=SC2086
      tps=$(pgbench -n -j 2 -T "$SECONDS_PER_RUN" $workload "$CONN" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
      TPS["$policy|$workload"]="${TPS["$policy|$workload"]:-} $tps"
      echo "rep $rep  audit [$policy]  $workload  $tps tps" >&2
    done
    stop
  done
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| pgbench | audit off tps | default tps | ALL tps | durable tps | default / off | ALL / off | durable / off |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for workload in "${WORKLOADS[@]}"; do
  o=$(echo "${TPS["off|$workload"]}" | median); d=$(echo "${TPS["default|$workload"]}" | median)
  a=$(echo "${TPS["all|$workload"]}" | median); u=$(echo "${TPS["durable|$workload"]}" | median)
  awk -v w="$workload" -v o="$o" -v d="$d" -v a="$a" -v u="$u" 'BEGIN {printf "| `%s` | %.0f | %.0f | %.0f | %.0f | %.2fx | %.2fx | %.2fx |\n", w, o, d, a, u, d/o, a/o, u/o}'
done
