#!/usr/bin/env bash
# The long crash-safety run: many rounds of concurrent enumerators submitting to the real
# binary, SIGKILL mid-stream, restart, and a check that every acknowledged interview is
# stored exactly once and that journal recovery equals the database.
#
# Usage: scripts/crash-test.sh [ROUNDS] [CLIENTS] [KILL_AFTER_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CHAINSURVEY_CRASH_ROUNDS="${1:-20}"
export CHAINSURVEY_CRASH_CLIENTS="${2:-32}"
export CHAINSURVEY_CRASH_KILL_MS="${3:-1500}"
cargo test --release --test integration server::crash -- --nocapture
