#!/usr/bin/env bash
# Install the developer tools the Makefile needs, when they are missing.
# Idempotent: a tool that already runs is left alone.
#
#   cargo-nextest   the test runner used by `make test`
#   schemathesis, swagger-ui-dist   scripts/install-api-tools.sh (the contract run, /docs)
set -euo pipefail

"$(dirname "${BASH_SOURCE[0]}")/install-api-tools.sh"

if cargo nextest --version >/dev/null 2>&1; then
  exit 0
fi

echo "install-tools: installing cargo-nextest (cargo install --locked, takes a few minutes)"
cargo install cargo-nextest --locked
cargo nextest --version
