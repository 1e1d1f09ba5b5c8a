#!/usr/bin/env bash
# The burst case of `make bench-catalog` (issue 12, "bursts on one page"), run by
# catalog-listing.sh at its end against the cached catalog it started:
#
#   scripts/lib/catalog-burst.sh PORT        (BURST=3000 BURST_PATH=/api/v1/products)
#
# BURST clients each send one GET for the same page at the same moment, each on a connection
# of its own (services/catalog/examples/burst.rs). Five rounds:
#   - the page hot in the cache, the clients connecting as the burst starts (the kernel's
#     listen queue takes the SYNs), then with the connections opened first (all requests meet
#     the workers at the same instant);
#   - the same two right after an invalidation (`INCR` of the version key under
#     $REDIS_KEY_PREFIX, which the caller exports): every request misses, one rebuild must
#     serve them all;
#   - a catalog of its own on $DOWN_PORT (default 18184; same binary and $DATABASE_URL) whose
#     Redis is a closed port: the cache steps aside, and one build per page at a time must
#     still serve the burst from PostgreSQL.
# Per round it prints the 2xx / non-2xx / unanswered counts, the total time, latencies, and
# what the cache did (catalog_cache_events_total deltas from /metrics: `bypass` = served
# without Redis, `timeout` = a slow command that did not make the cache step aside). It exits
# 1 if any request got no 2xx answer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PORT=${1:?usage: catalog-burst.sh PORT}
BURST=${BURST:-3000}
BURST_PATH=${BURST_PATH:-/api/v1/products}
DOWN_PORT=${DOWN_PORT:-18184}
BIN=${BIN:-target/release/catalog}

say() { printf 'bench: %s\n' "$*" >&2; }

# One descriptor per client connection, and the loopback peer's end lives in the catalog.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < BURST + 64)); then
  say "WARNING: ulimit -n is $(ulimit -n); $BURST clients need more (connections will fail)"
fi

# The same build as scripts/lib/bench.sh's bench_build (one feature set for the workspace), so
# after a bench it is a no-op instead of a rebuild of every dependency for `-p catalog` alone.
if [[ ${BENCH_NO_BUILD:-} != 1 ]]; then
  say "building the burst load generator (with the workspace's release build)"
  cargo build --release --locked --workspace --bins --examples >&2
fi
LOAD=target/release/examples/burst

# `event=count` for each catalog_cache_events_total series of the catalog on port $1.
events() {
  curl -sf "http://127.0.0.1:$1/metrics" | awk -F'[{}" ]+' '/^catalog_cache_events_total/ {print $3 "=" $NF}' | sort
}
# The change of each counter between two `events` outputs.
delta() {
  awk -F= 'NR == FNR {before[$1] = $2; next} {d = $2 - before[$1]; if (d) {printf "%s %s=%d", sep, $1, d; sep = ","}}
           END {print ""}' "$1" "$2"
}

failed=0
# round NAME PORT hot|invalidated [burst flags]: warms the page, makes it miss if asked, bursts.
round() {
  local name=$1 port=$2 state=$3 before after out
  shift 3
  curl -sf -o /dev/null "http://127.0.0.1:$port$BURST_PATH"
  [[ $state == invalidated ]] && redis-cli INCR "${REDIS_KEY_PREFIX}products:version" >/dev/null
  before=$(mktemp) after=$(mktemp)
  events "$port" >"$before"
  out=$("$LOAD" --addr "127.0.0.1:$port" --path "$BURST_PATH" --requests "$BURST" "$@") || failed=1
  events "$port" >"$after"
  printf '%-32s %s\n' "$name" "$(grep -v '^burst:' <<<"$out")"
  printf '%-32s cache events:%s\n' "" "$(delta "$before" "$after")"
  rm -f "$before" "$after"
}

down_pid=""
stop_down() { if [[ -n $down_pid ]]; then kill "$down_pid" 2>/dev/null && wait "$down_pid" 2>/dev/null; fi; true; }
trap stop_down EXIT

echo
echo "burst: $BURST simultaneous requests, each on a connection of its own, GET $BURST_PATH"
round "hot, connecting at the start" "$PORT" hot
round "hot, connected first" "$PORT" hot --connect-first
if [[ -n ${REDIS_KEY_PREFIX:-} ]] && command -v redis-cli >/dev/null; then
  round "invalidated, connecting at start" "$PORT" invalidated
  round "invalidated, connected first" "$PORT" invalidated --connect-first
fi
if [[ -n ${DATABASE_URL:-} && -x $BIN ]]; then
  # Nothing listens on port 1: every Redis connection is refused at once.
  REDIS_URL=redis://127.0.0.1:1 HTTP_ADDR=127.0.0.1:$DOWN_PORT CATALOG_CACHE_TTL=3600 "$BIN" serve >/dev/null 2>&1 &
  down_pid=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$DOWN_PORT/health" >/dev/null && break
    sleep 0.05
  done
  round "Redis down, connected first" "$DOWN_PORT" hot --connect-first
fi
if ((failed)); then
  say "FAILED: some burst requests got no 2xx answer (see the counts above)"
  exit 1
fi
