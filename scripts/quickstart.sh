#!/usr/bin/env bash
# Quickstart: brings up the two local servers it uses (source and destination), loads a sysbench
# dataset on the source, runs the `dts` program on a MySQL -> MySQL task (schema, full copy,
# then the binlog) while a light write load runs, stops it once it has caught up, and compares
# source and destination table by table.
#
# The `dts` program used: $DTS when set, else `dts` on the PATH (`cargo install --path
# examples`), else the release build of this checkout (built here). Task state goes where the
# installed program keeps it: $XDG_STATE_HOME/dts, else ~/.local/state/dts.
#
#   QUICKSTART_TABLES=4 QUICKSTART_ROWS=100000 QUICKSTART_LOAD_SECONDS=20 scripts/quickstart.sh
#   QUICKSTART_DATABASE=sbtest   the database copied (the task file's `sbtest` is renamed)
#   scripts/quickstart.sh --data-only   servers and sample data only, for `dts serve` (README)
set -euo pipefail

DATA_ONLY=0
case "${1:-}" in
  "") ;;
  --data-only) DATA_ONLY=1 ;;
  *) echo "usage: $0 [--data-only]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TABLES="${QUICKSTART_TABLES:-4}"
ROWS="${QUICKSTART_ROWS:-100000}"
LOAD_SECONDS="${QUICKSTART_LOAD_SECONDS:-20}"
DB="${QUICKSTART_DATABASE:-sbtest}"
SOURCE_PORT=33061
DEST_PORT=33062

ping_port() {
  mariadb-admin --no-defaults --protocol=tcp -h127.0.0.1 -P"$1" -uroot --connect-timeout=2 ping \
    >/dev/null 2>&1
}
# Only the two servers the task uses: no Kafka broker, no extra servers.
if command -v mariadb-admin >/dev/null && ping_port "$SOURCE_PORT" && ping_port "$DEST_PORT"; then
  echo "== using the servers already running on 127.0.0.1:$SOURCE_PORT and :$DEST_PORT"
else
  echo "== starting the source and destination servers (scripts/test-env.sh up source destination)"
  bash scripts/test-env.sh up source destination >/dev/null
fi
if ! command -v sysbench >/dev/null; then
  echo "installing sysbench…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq sysbench >/dev/null
fi

if [ "$DATA_ONLY" = 1 ]; then
  DTS=true
elif [ -n "${DTS:-}" ]; then
  :
elif command -v dts >/dev/null; then
  DTS="$(command -v dts)"
else
  echo "== building the dts program (release; \`cargo install --path examples\` installs it)"
  cargo build --release -p dts-examples --bin dts 2>&1 | tail -1
  DTS="$ROOT/target/release/dts"
fi
[ "$DATA_ONLY" = 1 ] || echo "== $("$DTS" --version) ($DTS)"
STATE_DIR="${XDG_STATE_HOME:-$HOME/.local/state}/dts"
[[ "$STATE_DIR" = /* ]] || STATE_DIR="$HOME/.local/state/dts"

TASK_FILE=examples/tasks/quickstart.toml
TASK_ID=quickstart
if [ "$DB" != sbtest ]; then
  TASK_ID="quickstart-$DB"
  if [ "$DATA_ONLY" = 1 ]; then
    mkdir -p "$STATE_DIR"
    TASK_FILE="$STATE_DIR/$TASK_ID.toml"
  else
    TASK_FILE="$(mktemp --suffix=.toml)"
    trap 'rm -f "$TASK_FILE"' EXIT
  fi
  sed -e "s/^id = \"quickstart\"/id = \"$TASK_ID\"/" -e "s/^name = \"sbtest\"/name = \"$DB\"/" \
    -e "s/sbtest to/$DB to/" examples/tasks/quickstart.toml >"$TASK_FILE"
fi

SRC=(mariadb -h127.0.0.1 -P"$SOURCE_PORT" -uroot --batch --skip-column-names)
DST=(mariadb -h127.0.0.1 -P"$DEST_PORT" -uroot --batch --skip-column-names)
SB=(sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$SOURCE_PORT" --mysql-user=root
    --mysql-db="$DB" --tables="$TABLES" --table-size="$ROWS")

echo "== loading sample data: $TABLES sysbench tables x $ROWS rows in \`$DB\` on the source"
"${SRC[@]}" -e "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\`"
"${DST[@]}" -e "DROP DATABASE IF EXISTS \`$DB\`"
# A fresh start: forget this task's checkpoints (state file, and its rows in dts_meta).
rm -f "$STATE_DIR/$TASK_ID.json"
"${DST[@]}" -e "SELECT CONCAT('DELETE FROM dts_meta.', TABLE_NAME, ' WHERE task_id = ''$TASK_ID'';')
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'dts_meta' AND COLUMN_NAME = 'task_id'" |
  "${DST[@]}"
"${SB[@]}" oltp_write_only prepare >/dev/null
if [ "$DATA_ONLY" = 1 ]; then
  echo "== ready: \`dts serve\`, then create the task of $TASK_FILE (README.md, Operating it)"
  exit 0
fi

echo "== running the task while a light write load (${LOAD_SECONDS}s at 100 tx/s) runs"
echo "   (state in $STATE_DIR; Ctrl-C stops it with checkpoints saved)"
"${SB[@]}" --rate=100 --time="$LOAD_SECONDS" oltp_write_only run >/tmp/dts-quickstart-load.log 2>&1 &
LOAD=$!
"$DTS" run "$TASK_FILE" &
RUNNER=$!
wait "$LOAD"
echo
echo "== write load finished; waiting for the destination to catch up"

checksums() {
  local -n cmd=$1
  for i in $(seq 1 "$TABLES"); do
    "${cmd[@]}" -e "SELECT COUNT(*) FROM \`$DB\`.sbtest$i; CHECKSUM TABLE \`$DB\`.sbtest$i" | tr '\n' ' '
    echo
  done
}
ok=0
for _ in $(seq 1 120); do
  if [ "$(checksums SRC)" = "$(checksums DST)" ]; then ok=1; break; fi
  sleep 1
done
kill -INT "$RUNNER" 2>/dev/null || true
wait "$RUNNER" || true

echo
echo "== verification: row count and CHECKSUM TABLE, source vs destination"
printf '%-10s %10s %12s %10s %12s  %s\n' table src_rows src_checksum dst_rows dst_checksum result
for i in $(seq 1 "$TABLES"); do
  read -r sc _ sck < <("${SRC[@]}" -e "SELECT COUNT(*) FROM \`$DB\`.sbtest$i; CHECKSUM TABLE \`$DB\`.sbtest$i" | tr '\n' ' ' | awk '{print $1, $2, $3}')
  read -r dc _ dck < <("${DST[@]}" -e "SELECT COUNT(*) FROM \`$DB\`.sbtest$i; CHECKSUM TABLE \`$DB\`.sbtest$i" | tr '\n' ' ' | awk '{print $1, $2, $3}')
  result=MATCH; [ "$sc/$sck" = "$dc/$dck" ] || result=DIFFERENT
  printf '%-10s %10s %12s %10s %12s  %s\n' "sbtest$i" "$sc" "$sck" "$dc" "$dck" "$result"
done
if [ "$ok" = 1 ]; then
  echo "source and destination are identical"
  echo "next: \`dts serve\` and the console at http://127.0.0.1:7878 (see README.md, Operating it)"
else
  echo "source and destination differ" >&2
  exit 1
fi
