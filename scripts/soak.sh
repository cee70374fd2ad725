#!/usr/bin/env bash
# Crash-consistency soak: N trials of the example runner killed with SIGKILL at random moments
# (startup, precheck, schema sync, full sync, incremental write) under a concurrent random
# writer, restarted, and finally compared with the source row by row and by CHECKSUM TABLE.
#
#   scripts/soak.sh [N]        default 50 trials
#
# Two of every three trials also restart the source or the destination server (the test
# environment's spare `peer` server stands in for it) at a random moment. Then
# DTS_KAFKA_CRASH_TRIALS (default N/5, at least 1) trials kill the runner syncing into Kafka
# and check every change arrives at least once, in order per key. Then each fuzz target of
# fuzz/ runs for DTS_SOAK_FUZZ_SECONDS (default 10; 0 skips them), crashes going to
# target/fuzz-artifacts/.
#
# Environment: DTS_CRASH_SEED replays a run (its seed is printed first), DTS_CRASH_ROWS sets
# the rows seeded per table (default 5000). Databases are named rs_crash_<pid>_<trial>; those of
# a failed trial are kept for inspection. Uses the servers of scripts/test-env.sh (started if
# down, never restarted). The last line is the summary:
#
#   trials: N, lost rows: X, duplicated rows: Y, mismatched tables: Z
#
# The exit status is non-zero unless X, Y and Z are all 0.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$PATH:$HOME/.cargo/bin"

TRIALS="${1:-50}"
[[ "$TRIALS" =~ ^[0-9]+$ && "$TRIALS" -gt 0 ]] || { echo "usage: scripts/soak.sh [N>0]" >&2; exit 2; }

bash scripts/test-env.sh up >/dev/null
eval "$(bash scripts/test-env.sh env)"

# The runner is built once, in release, and every trial starts that binary.
cargo build --release -q -p dts-examples --bin dts
export DTS_RUNNER="$ROOT/target/release/dts"
export DTS_CRASH_TRIALS="$TRIALS"
export DTS_KAFKA_CRASH_TRIALS="${DTS_KAFKA_CRASH_TRIALS:-$(( TRIALS / 5 > 0 ? TRIALS / 5 : 1 ))}"

LOG="$ROOT/target/soak-$(date -u +%Y%m%dT%H%M%SZ).log"
set +e
cargo test --release -q -p dts-examples --test crash_trials -- --nocapture --test-threads 1 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
echo "log: $LOG"

# Fuzz targets (fuzz/, its own workspace), each for a bounded time, coverage-guided with
# cargo-fuzz (`cargo install cargo-fuzz`): on a nightly toolchain when one is installed, else on
# stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz's sanitizer flags are nightly-only; this works
# with 1.95). Without cargo-fuzz: the same libFuzzer binaries built on stable, without
# coverage instrumentation (random inputs only).
FUZZ_SECONDS="${DTS_SOAK_FUZZ_SECONDS:-10}"
fuzz_failed=0
if [[ "$FUZZ_SECONDS" -gt 0 ]]; then
    mkdir -p "$ROOT/target/fuzz-artifacts"
    guided=0
    fuzz_cmd=()
    if cargo fuzz --version >/dev/null 2>&1; then
        guided=1
        if rustup toolchain list 2>/dev/null | grep -q nightly; then
            fuzz_cmd=(cargo +nightly fuzz)
        else
            fuzz_cmd=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
        fi
    fi
    results=()
    for t in binlog_rows ddl where_condition config; do
        corpus="$ROOT/target/fuzz-corpus/$t"
        mkdir -p "$corpus"
        if [[ "$guided" == 1 ]]; then
            run=("${fuzz_cmd[@]}" run -O "$t" "$corpus" -- -max_total_time="$FUZZ_SECONDS" \
                -artifact_prefix="$ROOT/target/fuzz-artifacts/")
        else
            run=(cargo run -q --release --bin "$t" -- -max_total_time="$FUZZ_SECONDS" \
                -artifact_prefix="$ROOT/target/fuzz-artifacts/" "$corpus")
        fi
        if (cd fuzz && "${run[@]}") >>"$LOG" 2>&1; then
            results+=("$t ok")
        else
            results+=("$t FAILED")
            fuzz_failed=1
        fi
    done
    mode=$([[ "$guided" == 1 ]] && echo "coverage-guided" || echo "uninstrumented")
    echo "fuzz (${FUZZ_SECONDS}s each, $mode): $(IFS=,; echo "${results[*]}" | sed 's/,/, /g')"
fi

kafka_summary="$(grep -E '^kafka trials: ' "$LOG" | tail -1 || true)"
[[ -n "$kafka_summary" ]] && echo "$kafka_summary"
summary="$(grep -E '^trials: [0-9]+, lost rows' "$LOG" | tail -1 || true)"
if [[ -z "$summary" ]]; then
    echo "soak: no summary line (the trial run stopped early; see the log)" >&2
    exit 1
fi
echo "$summary"
if [[ "$status" == 0 && "$fuzz_failed" == 1 ]]; then
    status=1
fi
exit "$status"
