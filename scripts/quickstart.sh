#!/usr/bin/env bash
# Quickstart: brings up the local servers, loads a sysbench dataset on the source, runs a
# MySQL -> MySQL task (schema, full copy, then the binlog) while a light write load runs, stops
# it once it has caught up, and compares source and destination table by table.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TABLES="${QUICKSTART_TABLES:-4}"
ROWS="${QUICKSTART_ROWS:-100000}"
LOAD_SECONDS="${QUICKSTART_LOAD_SECONDS:-20}"

bash scripts/test-env.sh up >/dev/null
eval "$(bash scripts/test-env.sh env)"
if ! command -v sysbench >/dev/null; then
  echo "installing sysbench…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y sysbench >/dev/null
fi

SRC=(mariadb -h127.0.0.1 -P33061 -uroot --batch --skip-column-names)
DST=(mariadb -h127.0.0.1 -P33062 -uroot --batch --skip-column-names)
SB=(sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=33061 --mysql-user=root
    --mysql-db=sbtest --tables="$TABLES" --table-size="$ROWS")

echo "== loading sample data: $TABLES sysbench tables x $ROWS rows on the source"
"${SRC[@]}" -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
"${DST[@]}" -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS dts_meta"
rm -rf target/dts-state/quickstart.json
"${SB[@]}" oltp_write_only prepare >/dev/null

echo "== building the runner"
cargo build --release -p dts-examples --bin dts 2>&1 | tail -1

echo "== running the task while a light write load (${LOAD_SECONDS}s at 100 tx/s) runs"
"${SB[@]}" --rate=100 --time="$LOAD_SECONDS" oltp_write_only run >/tmp/dts-quickstart-load.log 2>&1 &
LOAD=$!
target/release/dts run --state-dir target/dts-state examples/tasks/quickstart.toml &
RUNNER=$!
wait "$LOAD"
echo
echo "== write load finished; waiting for the destination to catch up"

checksums() {
  local -n cmd=$1
  for i in $(seq 1 "$TABLES"); do
    "${cmd[@]}" -e "SELECT COUNT(*) FROM sbtest.sbtest$i; CHECKSUM TABLE sbtest.sbtest$i" | tr '\n' ' '
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
  read -r sc _ sck < <("${SRC[@]}" -e "SELECT COUNT(*) FROM sbtest.sbtest$i; CHECKSUM TABLE sbtest.sbtest$i" | tr '\n' ' ' | awk '{print $1, $2, $3}')
  read -r dc _ dck < <("${DST[@]}" -e "SELECT COUNT(*) FROM sbtest.sbtest$i; CHECKSUM TABLE sbtest.sbtest$i" | tr '\n' ' ' | awk '{print $1, $2, $3}')
  result=MATCH; [ "$sc/$sck" = "$dc/$dck" ] || result=DIFFERENT
  printf '%-10s %10s %12s %10s %12s  %s\n' "sbtest$i" "$sc" "$sck" "$dc" "$dck" "$result"
done
if [ "$ok" = 1 ]; then
  echo "source and destination are identical"
else
  echo "source and destination differ" >&2
  exit 1
fi
