#!/usr/bin/env bash
# Runs every test suite of chainsurvey, after installing what a fresh machine lacks.
# This is the one test command of README.md; .ci/run calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain components (a fresh rustup toolchain may lack them).
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --locked
