#!/usr/bin/env bash
# Format check and clippy with warnings as errors (`make lint`; `make test` runs it first).
# With --if-available, a toolchain without the rustfmt or clippy component skips that check
# with a warning instead of failing: rustup may not be able to fetch components on every machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

lenient=0
[[ ${1:-} == --if-available ]] && lenient=1

check() {
  local name=$1
  shift
  if ! cargo "$name" --version >/dev/null 2>&1; then
    rustup component add "${name/fmt/rustfmt}" >/dev/null 2>&1 || true
  fi
  if cargo "$name" --version >/dev/null 2>&1; then
    cargo "$name" "$@"
  elif ((lenient)); then
    echo "lint: cargo $name is not installed here (rustup component add $name): check skipped" >&2
  else
    echo "lint: cargo $name is not installed (rustup component add $name)" >&2
    return 1
  fi
}

check fmt --all -- --check
check clippy --workspace --all-targets --locked -- -D warnings
