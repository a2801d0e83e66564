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

echo "== cargo doc --no-deps (warnings are errors: broken links in the API docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet

echo "== cargo test"
cargo test --locked

# Browser client (web/): the expression corpus in node, and the app in a real headless
# Chromium (Debian's package; playwright-core drives it and never downloads a browser).
if [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null; then
  echo "== apt-get install -y chromium nodejs npm"
  apt-get update
  [ -x /usr/bin/chromium ] || apt-get install -y chromium
  command -v npm >/dev/null || apt-get install -y nodejs npm
fi
echo "== npm ci (playwright-core, tests only)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
echo "== node --test tests/browser/"
node --test tests/browser/
# The client's API layer against the real server, once the binary has a `serve` command.
if ./target/debug/chainsurvey serve --help >/dev/null 2>&1; then
  echo "== web/api.js against the server (tests/browser/server-contract.mjs)"
  node tests/browser/server-contract.mjs ./target/debug/chainsurvey
else
  echo "== (this build has no server yet: tests/browser/server-contract.mjs not run)"
fi
