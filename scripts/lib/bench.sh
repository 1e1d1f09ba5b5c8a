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
# BENCH_NO_BUILD=1 measures the binaries already in target/ (built by an earlier bench or by
# hand), e.g. to measure a baseline while the sources already hold the next change.
bench_build() {
  if [[ ${BENCH_NO_BUILD:-} == 1 ]]; then say "BENCH_NO_BUILD=1: measuring the binaries in target/ as they are"; return; fi
  local profile=${1:-release} flags=(--locked --workspace --bins --examples)
  [[ $profile == release ]] && flags+=(--release)
  say "building the workspace's binaries and load generators ($profile)"
  cargo build "${flags[@]}" >&2 9>&-
}

# The local PostgreSQL the benches use (BENCH_PG_PORT=5439 points a bench at a private
# cluster, e.g. one started with pg_stat_statements preloaded; psql and pgbench follow PGPORT).
BENCH_PG_PORT=${BENCH_PG_PORT:-5432}
export PGPORT=$BENCH_PG_PORT
# shellcheck source=scripts/lib/proc-cpu.sh
source "$(dirname "${BASH_SOURCE[0]}")/proc-cpu.sh"
# shellcheck source=scripts/lib/pg-statements.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-statements.sh"

# bench_psql ARGS...: psql as postgres on the benches' PostgreSQL, quiet, stopping at the first error.
bench_psql() { psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }

# ---- Connections --------------------------------------------------------------------------
# Every service's pool is DB_POOL_SIZE (16 unless set); each service also holds LISTEN
# connections outside its pool (the outbox relay's, order's payment syncer's): counted as
# BENCH_PG_EXTRA_PER_SERVICE (2). BENCH_PG_MARGIN (10) is left for psql, the scripts' own
# checks and whatever else starts meanwhile.
export DB_POOL_SIZE=${DB_POOL_SIZE:-16}

# bench_pg_connections NAME=POOL... [pgbench=CLIENTS]: prints PostgreSQL's max_connections,
# the connections open now (other work on the shared server) and what this bench will open,
# and refuses to start (exit 1) when that does not fit under max_connections minus the
# superuser-reserved slots, the open ones and the margin. `pgbench=` counts as clients, not as
# a service (no LISTEN connections).
bench_pg_connections() {
  local extra=${BENCH_PG_EXTRA_PER_SERVICE:-2} margin=${BENCH_PG_MARGIN:-10} max reserved open need=0 parts=() kv
  read -r max reserved open < <(bench_psql -d postgres -AtF' ' -c "SELECT current_setting('max_connections'),
    current_setting('superuser_reserved_connections'), (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')")
  for kv in "$@"; do
    if [[ ${kv%%=*} == pgbench ]]; then
      need=$((need + ${kv#*=}))
      parts+=("pgbench ${kv#*=} clients")
    else
      need=$((need + ${kv#*=} + extra))
      parts+=("${kv%%=*} ${kv#*=}+$extra")
    fi
  done
  local room=$((max - reserved - open - margin)) list
  list=$(printf '%s, ' "${parts[@]}")
  say "PostgreSQL connections: max_connections $max ($reserved reserved for superusers), $open open now;" \
    "this bench: ${list%, } (pool+LISTEN) = $need; room $room (margin $margin)"
  if ((need > room)); then
    say "REFUSED: $need connections needed, $room free under max_connections $max." \
      "Lower DB_POOL_SIZE (now $DB_POOL_SIZE per service), wait for the other work to end, or raise max_connections."
    exit 1
  fi
}

# ---- Summary ------------------------------------------------------------------------------
# Each bench adds its headline figures with bench_target; `make bench` sets BENCH_SUMMARY to one
# file for every bench it runs and prints it at the end (bench_summary_print). A bench run on its
# own prints its own rows when it ends.
# (The file is named after the script's pid, so rows added from subshells land in it too.)
BENCH_SUMMARY_OWN=""
if [[ -z ${BENCH_SUMMARY:-} ]]; then
  BENCH_SUMMARY=/tmp/commerce-bench-summary.$$
  BENCH_SUMMARY_OWN=$BENCH_SUMMARY
fi

# bench_ms LATENCY: wrk's or the load generator's latency (e.g. 812us, 4.56ms, 1.2s, 37.5) in ms.
bench_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /[0-9]s$/) n *= 1000; else if (v ~ /m$/) n *= 60000
    printf "%.2f", n }'
}

# bench_target NAME FIGURE UNIT OP TARGET [BASELINE]: one summary row. With BASELINE (a number,
# then its unit: "1809 tps") the ratio FIGURE/BASELINE is held to OP TARGET (a multiple, shown
# "≥ 0.08×"), else FIGURE itself (OP is >= or <=). An empty FIGURE or BASELINE (not measured)
# gives "n/a"; TARGET "-" records a figure that has no target.
bench_target() {
  local name=$1 figure=$2 unit=$3 op=$4 target=$5 baseline=${6-}
  awk -v bench="$(basename "$0" .sh)" -v name="$name" -v fig="$figure" -v unit="$unit" -v op="$op" \
    -v t="$target" -v base="$baseline" -v has_base="$(($# >= 6))" '
    function num(v) { return v + 0 >= 100 || v + 0 <= -100 ? sprintf("%.0f", v) : sprintf("%.4g", v) }
    BEGIN {
      sign = op == ">=" ? "≥" : "≤"
      v = fig; ratio = "-"
      if (has_base) {
        if (fig != "" && base + 0 > 0) { v = fig / base; ratio = sprintf("%.3f", v) } else v = ""
        shown_target = t == "-" ? "-" : sign " " t "×"
        bunit = base; sub(/^[-0-9.e+]+ */, "", bunit)
        shown_base = base == "" ? "n/a" : num(base) (bunit == "" ? "" : " " bunit)
      } else {
        shown_target = t == "-" ? "-" : sign " " t (unit == "" ? "" : " " unit)
        shown_base = "-"
      }
      if (v == "") verdict = "n/a"
      else if (t == "-") verdict = "-"
      else verdict = (op == ">=" ? v + 0 >= t + 0 : v + 0 <= t + 0) ? "met" : "MISSED"
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", bench, name, fig == "" ? "n/a" : num(fig) (unit == "" ? "" : " " unit),
        shown_base, ratio, shown_target, verdict
    }' >>"$BENCH_SUMMARY"
}

# bench_summary_print [FILE]: the table of every row in FILE (default $BENCH_SUMMARY).
bench_summary_print() {
  local file=${1:-$BENCH_SUMMARY}
  echo
  [[ -s $file ]] || { echo "summary: no bench recorded a figure"; return 0; }
  echo "summary (targets of issue 21, and of issue 20 for catalog search; \"-\": a figure without a target):"
  awk -F'\t' '
    BEGIN { split("bench|figure|value|baseline|ratio|target|result", h, "|"); for (i = 1; i <= 7; i++) { cell[0, i] = h[i]; w[i] = length(h[i]) } }
    { for (i = 1; i <= 7; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
    END {
      for (r = 0; r <= NR; r++) {
        line = ""
        for (i = 1; i <= 7; i++) {
          pad = w[i] - length(cell[r, i]); fill = sprintf("%" (pad > 0 ? pad : 0) "s", "")
          line = line (i > 1 ? "  " : "") (i <= 2 ? cell[r, i] fill : fill cell[r, i])
        }
        print line
      }
    }' "$file"
}

# bench_summary_end: a bench run on its own prints its rows (called from the bench's EXIT trap).
bench_summary_end() {
  [[ -n $BENCH_SUMMARY_OWN ]] || return 0
  [[ -s $BENCH_SUMMARY_OWN ]] && bench_summary_print "$BENCH_SUMMARY_OWN"
  rm -f "$BENCH_SUMMARY_OWN"
  cpu_forget_counted
}
