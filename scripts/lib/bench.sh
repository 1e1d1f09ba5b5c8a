# shellcheck shell=bash
# What every script in scripts/bench/ shares (sourced after `cd` to the repository root):
# `say`, the scratch helpers, one machine-wide lock so benchmarks never overlap (each measures
# the machine), and one build of everything the benches run.
# shellcheck source=scripts/lib/scratch.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

say() { printf 'bench: %s\n' "$*" >&2; }

# bench_lock: waits until no other benchmark runs (fd 9 holds the lock until the script ends).
bench_lock() {
  exec 9>/tmp/commerce-bench.lock
  flock -n 9 || { say "another benchmark is running; waiting for it"; flock 9; }
}

# bench_build [release|debug]: every binary and example of the workspace in one build, so the
# features of all packages unify once and no bench rebuilds what another built (`make bench`
# compiles once, then only measures). The lock's descriptor is not cargo's to keep.
bench_build() {
  local profile=${1:-release} flags=(--locked --workspace --bins --examples)
  [[ $profile == release ]] && flags+=(--release)
  say "building the workspace's binaries and load generators ($profile)"
  cargo build "${flags[@]}" >&2 9>&-
}
