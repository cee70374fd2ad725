#!/usr/bin/env bash
# Run the whole workspace test suite against the real test environment.
# Brings the environment up (installing what is missing), exports the
# DTS_TEST_* variables, then runs `cargo test --workspace --all-features`.
# Extra arguments are passed to cargo test, e.g. `scripts/test.sh -- --nocapture`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/test-env.sh up >/dev/null
# The console test (examples/tests/console.rs) drives headless Chromium from Debian's packages.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing chromium and chromium-driver for the console test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
eval "$(bash scripts/test-env.sh env)"
bash scripts/test-env.sh env

exec cargo test --workspace --all-features "$@"
