#!/usr/bin/env bash
# Compares the pgwarden gateway with direct PostgreSQL over TLS and with
# PgBouncer (client TLS, session mode), using pgbench, interleaved in one run.
#
#   bash bench/gateway-vs-pgbouncer.sh [SECONDS_PER_RUN] [REPETITIONS]
#
# Not a test: it prints a Markdown table of TPS and ratios. Everything listens
# on 127.0.0.1 only; every server it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
REPS=${2:-3}
ROOT=$(mktemp -d /tmp/pgw-bench-XXXXXX)
chmod 711 "$ROOT"
GW_PORT=16432; PG_PORT=16433; BOUNCER_PORT=16434
PASSWORD=bench-password-$RANDOM$RANDOM

if ! command -v pgbouncer >/dev/null || ! command -v pgbench >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer postgresql-client >/dev/null
fi
npm run build --silent

cleanup() {
  set +e
  [ -f "$ROOT/bouncer/bouncer.pid" ] && kill "$(cat "$ROOT/bouncer/bouncer.pid")" 2>/dev/null
  [ -f "$ROOT/direct/postmaster.pid" ] && runuser -u pgwarden -- "$BIN/pg_ctl" -D "$ROOT/direct" -m fast stop >/dev/null 2>&1
  node dist/src/cli/main.js down --data-dir "$ROOT/gw" >/dev/null 2>&1
  rm -rf "$ROOT"
}
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT

# 1. pgwarden: managed server and gateway.
PGWARDEN_ADMIN_PASSWORD=$PASSWORD node dist/src/cli/main.js up --detach --data-dir "$ROOT/gw" --port $GW_PORT >/dev/null
BIN=$(node dist/src/cli/main.js status --json --data-dir "$ROOT/gw" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).binaries.binDir))')
CA=$ROOT/gw/tls/ca.crt

# 2. Direct PostgreSQL over TLS, same binaries, same certificate, SCRAM.
id pgwarden >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin pgwarden
mkdir -p "$ROOT/direct" && chown pgwarden "$ROOT/direct"
echo "$PASSWORD" > "$ROOT/pw" && chown pgwarden "$ROOT/pw"
runuser -u pgwarden -- "$BIN/initdb" -D "$ROOT/direct" -U pgwarden --pwfile="$ROOT/pw" --auth=scram-sha-256 >/dev/null
cp "$ROOT/gw/tls/server.crt" "$ROOT/gw/tls/server.key" "$ROOT/direct/" && chown pgwarden "$ROOT/direct/server."* && chmod 600 "$ROOT/direct/server.key"
cat >> "$ROOT/direct/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$ROOT/direct'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.3'
max_connections = 200
CONF
echo "host all all 127.0.0.1/32 scram-sha-256" > "$ROOT/direct/pg_hba.conf"
echo "local all all scram-sha-256" >> "$ROOT/direct/pg_hba.conf"
runuser -u pgwarden -- "$BIN/pg_ctl" -D "$ROOT/direct" -l "$ROOT/direct/server.log" -w start >/dev/null

# 3. PgBouncer in session mode, client TLS 1.3, SCRAM pass-through to the direct server.
SECRET=$(PGPASSWORD=$PASSWORD psql -h "$ROOT/direct" -p $PG_PORT -U pgwarden -d postgres -Atc "select rolpassword from pg_authid where rolname='pgwarden'")
echo "\"pgwarden\" \"$SECRET\"" > "$ROOT/userlist.txt"
cat > "$ROOT/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $ROOT/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 50
client_tls_sslmode = require
client_tls_cert_file = $ROOT/direct/server.crt
client_tls_key_file = $ROOT/direct/server.key
client_tls_protocols = tlsv1.3
server_tls_sslmode = disable
logfile = $ROOT/bouncer/pgbouncer.log
pidfile = $ROOT/bouncer/bouncer.pid
INI
mkdir -p "$ROOT/bouncer" && chown -R pgwarden "$ROOT/bouncer" "$ROOT/pgbouncer.ini" "$ROOT/userlist.txt"
runuser -u pgwarden -- pgbouncer -d "$ROOT/pgbouncer.ini"
sleep 1

export PGPASSWORD=$PASSWORD
conn() { echo "host=localhost port=$1 user=pgwarden dbname=postgres sslmode=verify-full sslrootcert=$CA"; }
for port in $GW_PORT $PG_PORT; do pgbench -i -q -s 10 "$(conn $port)" >/dev/null 2>&1; done

declare -A TPS
run() { # target port label args...
  local target=$1 port=$2; shift 2
  local out
  out=$(pgbench -n -j 2 -T "$SECONDS_PER_RUN" "$@" "$(conn "$port")" 2>&1) || { echo "pgbench failed for $target: $out" >&2; return 1; }
  echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}
CONFIGS=("-S -M prepared -c 1" "-S -M prepared -c 16" "-S -M simple -c 1" "-S -M simple -c 16" "-S -C -c 4")
for rep in $(seq 1 "$REPS"); do
  for config in "${CONFIGS[@]}"; do
    for target in direct pgbouncer gateway; do
      case $target in direct) port=$PG_PORT;; pgbouncer) port=$BOUNCER_PORT;; gateway) port=$GW_PORT;; esac
      # shellcheck disable=SC2086
      tps=$(run $target $port $config)
      TPS["$target|$config"]="${TPS["$target|$config"]:-} $tps"
      echo "rep $rep  $target  $config  $tps tps" >&2
    done
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| pgbench | direct TLS tps | PgBouncer-TLS tps | gateway tps | gateway / direct | gateway / PgBouncer |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for config in "${CONFIGS[@]}"; do
  d=$(echo "${TPS["direct|$config"]}" | median); b=$(echo "${TPS["pgbouncer|$config"]}" | median); g=$(echo "${TPS["gateway|$config"]}" | median)
  awk -v c="$config" -v d="$d" -v b="$b" -v g="$g" 'BEGIN {printf "| `%s` | %.0f | %.0f | %.0f | %.2fx | %.2fx |\n", c, d, b, g, g/d, g/b}'
done
