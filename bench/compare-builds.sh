#!/usr/bin/env bash
# Measures what a change costs the gateway: the current tree against an
# earlier git revision, on one managed server, alternating builds run by run.
#
#   bash bench/compare-builds.sh REV [SECONDS_PER_RUN] [REPETITIONS]
#
# Not a test: it prints a Markdown table of gateway TPS per build and the
# ratio new / old. Listens on 127.0.0.1 only; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare-builds.sh REV [SECONDS] [REPS]}
SECONDS_PER_RUN=${2:-10}
REPS=${3:-3}
ROOT=$(mktemp -d /tmp/pgw-cmp-XXXXXX)
chmod 711 "$ROOT"
PORT=16442
PASSWORD=bench-password-$RANDOM$RANDOM

command -v pgbench >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }
npm run build --silent
git worktree add -q --detach "$ROOT/old" "$REV"
ln -s "$PWD/node_modules" "$ROOT/old/node_modules"
(cd "$ROOT/old" && npx tsc -p tsconfig.json >/dev/null)

NEW=$PWD/dist/src/cli/main.js
OLD=$ROOT/old/dist/src/cli/main.js
cleanup() {
  set +e
  node "$NEW" down --data-dir "$ROOT/gw" >/dev/null 2>&1
  git worktree remove --force "$ROOT/old" >/dev/null 2>&1
  rm -rf "$ROOT"
}
trap cleanup EXIT

PGWARDEN_ADMIN_PASSWORD=$PASSWORD node "$NEW" up --detach --data-dir "$ROOT/gw" --port $PORT >/dev/null
export PGPASSWORD=$PASSWORD
CONN="host=localhost port=$PORT user=pgwarden dbname=postgres sslmode=verify-full sslrootcert=$ROOT/gw/tls/ca.crt"
pgbench -i -q -s 10 "$CONN" >/dev/null 2>&1

declare -A TPS
CONFIGS=("-S -M simple -c 16" "-S -M prepared -c 16" "-N -M simple -c 8")
for rep in $(seq 1 "$REPS"); do
  for build in old new; do
    cli=$NEW; [ "$build" = old ] && cli=$OLD
    node "$NEW" down --data-dir "$ROOT/gw" >/dev/null
    node "$cli" up --detach --data-dir "$ROOT/gw" --port $PORT >/dev/null
    for config in "${CONFIGS[@]}"; do
      # shellcheck disable=SC2086
      tps=$(pgbench -n -j 2 -T "$SECONDS_PER_RUN" $config "$CONN" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
      TPS["$build|$config"]="${TPS["$build|$config"]:-} $tps"
      echo "rep $rep  $build  $config  $tps tps" >&2
    done
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| pgbench | $REV tps | current tps | current / $REV |"
echo "| --- | ---: | ---: | ---: |"
for config in "${CONFIGS[@]}"; do
  o=$(echo "${TPS["old|$config"]}" | median); n=$(echo "${TPS["new|$config"]}" | median)
  awk -v c="$config" -v o="$o" -v n="$n" 'BEGIN {printf "| `%s` | %.0f | %.0f | %.2fx |\n", c, o, n, n/o}'
done
