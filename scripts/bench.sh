#!/usr/bin/env bash
# Run the dts benchmarks against the real test environment.
#
#   scripts/bench.sh                 every scenario
#   scripts/bench.sh NAME [NAME...]  the named scenarios
#   scripts/bench.sh --list          list the scenarios
#
# Brings the environment up (scripts/test-env.sh up), exports the DTS_TEST_*
# variables, builds the benchmarks in release mode, runs the scenarios one
# after another, and prints where the merged results are (target/bench/results.json,
# or $DTS_BENCH_RESULTS). Each scenario stores its numbers under its own key.
#
# Extra arguments for a scenario come from DTS_BENCH_ARGS_<NAME> (upper case),
# e.g. DTS_BENCH_ARGS_BINLOG_DECODE="--rows 200_000" scripts/bench.sh binlog_decode
# Benchmarks measure; they never assert: a scenario fails only when it cannot run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$PATH:$HOME/.cargo/bin"

# ---------------------------------------------------------------- scenarios
# One line per scenario: "name|cargo binary in dts-benches|default arguments|what it measures".
# To add one: add a [[bin]] to benches/Cargo.toml and a line here.
SCENARIOS=(
    "binlog_decode|binlog_decode|--rows 1_000_000|MySQL source binlog decode: row events/s, peak RSS"
    "full_sync|full_sync|--rows 1_000_000|Full sync of a sysbench table: dts vs mariadb-dump pipe, mydumper/myloader, LOAD DATA, the destination's own ceiling"
    "full_sync_interleaved|full_sync|--rows 1_000_000 --destination interleaved|The same into the destination with innodb_autoinc_lock_mode=2 (MySQL 8.0's default)"
    "incremental_catchup|incremental_catchup|--changes 500_000|Draining a row-change backlog: dts vs a native MariaDB replica (1 and 4 threads)"
    "latency|latency|--rate 5000 --seconds 20|Source-commit-to-destination-visible latency at a fixed insert rate: p50/p99/max"
    "verification|verify|--rows 1_000_000|Verify a 1M-row sysbench table with 0 and 100 differences: dts vs pt-table-sync --print, seconds and bytes"
    "kafka|kafka|--rows 1_000_000 --changes 500_000|MySQL to Kafka (Canal JSON, LZ4): full sync rows/s and backlog drain changes/s, peak RSS"
)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

field() { # "a|b|c|d" index
    local IFS='|'
    # shellcheck disable=SC2206
    local parts=($1)
    echo "${parts[$2]-}"
}

scenario_line() { # name -> its line, or failure
    local s
    for s in "${SCENARIOS[@]}"; do
        [[ "$(field "$s" 0)" == "$1" ]] && { echo "$s"; return 0; }
    done
    return 1
}

list() {
    local s
    for s in "${SCENARIOS[@]}"; do
        printf '%-20s %s\n' "$(field "$s" 0)" "$(field "$s" 3)"
    done
}

case "${1:-}" in
-h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
-l | --list) list; exit 0 ;;
esac

selected=()
if (($# == 0)); then
    for s in "${SCENARIOS[@]}"; do selected+=("$(field "$s" 0)"); done
else
    for name in "$@"; do
        scenario_line "$name" >/dev/null || { list >&2; die "unknown scenario '$name'"; }
        selected+=("$name")
    done
fi

# The peer tools the scenarios compare against (Debian packages).
missing=()
command -v mydumper >/dev/null || missing+=(mydumper)
command -v sysbench >/dev/null || missing+=(sysbench)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

log "bringing the test environment up"
bash scripts/test-env.sh up >/dev/null
eval "$(bash scripts/test-env.sh env)"

bins=()
for name in "${selected[@]}"; do
    bins+=(--bin "$(field "$(scenario_line "$name")" 1)")
done
log "building ${selected[*]} (release)"
cargo build --release -p dts-benches "${bins[@]}"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
results="${DTS_BENCH_RESULTS:-$target_dir/bench/results.json}"
failed=()
for name in "${selected[@]}"; do
    line="$(scenario_line "$name")"
    bin="$(field "$line" 1)"
    var="DTS_BENCH_ARGS_$(echo "$name" | tr '[:lower:]-' '[:upper:]_')"
    # shellcheck disable=SC2206  # word splitting of the argument string is intended
    args=(${!var-$(field "$line" 2)})
    log "running $name: $bin ${args[*]-}"
    start=$SECONDS
    if "$target_dir/release/$bin" "${args[@]}"; then
        log "$name done in $((SECONDS - start))s"
    else
        log "$name FAILED after $((SECONDS - start))s"
        failed+=("$name")
    fi
done

log "results: $results"
((${#failed[@]} == 0)) || die "scenarios that could not run: ${failed[*]}"
