#!/usr/bin/env bash
# Cart benchmark (`make bench-cart`, also part of `make bench`): the release cart with the
# release catalog behind it, and NGINX serving the exact bytes of the cart read as a static
# file, all measured with the same wrk settings in one run.
#
#   DURATION=10 CONNECTIONS=32 scripts/bench/cart.sh
#
# Cases: read a guest cart (GET /api/v1/carts/{id}, 3 lines, prices from catalog's look-up
# cache), read a customer's cart, and add to cart (POST .../items: a catalog reservation or
# resize per request, spread over 256 carts and 100 products). It prints req/s, p50, p99 and
# the ratio to NGINX for each, and the peak RSS of cart and catalog. It uses its own database
# (commerce_bench_cart), Redis prefixes and ports (18191 catalog, 18192 cart, 18193 nginx),
# loopback only, and removes what it started when it ends. wrk, both services, Redis and
# PostgreSQL share the machine's cores: compare the rows of one run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
bench_lock

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
CARTS=${CARTS:-256}
DB=commerce_bench_cart
CATALOG_PORT=18191
CART_PORT=18192
NGINX_PORT=18193
PREFIX="bench:$$:"
WORK=$(mktemp -d /tmp/commerce-bench-cart.XXXXXX)
PSQL=(psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1)
TOKEN=bench-internal-token
JWT_SECRET=bench-jwt-secret


scripts/ensure-services.sh >&2
bench_pg_connections catalog="$DB_POOL_SIZE" cart="$DB_POOL_SIZE"
# shellcheck source=scripts/lib/static-nginx.sh
source scripts/lib/static-nginx.sh
static_nginx_tools

bench_build release
CATALOG=target/release/catalog
CART=target/release/cart

pids=()
nginx_conf="$WORK/nginx.conf"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [[ -f $WORK/nginx.pid ]] && "$NGINX" -p "$WORK" -c "$nginx_conf" -s stop 2>/dev/null
  scratch_drop_db "$DB"
  scratch_drop_redis "${PREFIX}*"
  # The services' consumer queues (and their .retry/.dlq) outlive them: remove this run's.
  scratch_drop_broker "bench.$$."
  rm -rf "$WORK"
  bench_summary_end
}
trap cleanup EXIT

scratch_fresh_db "$DB"
export DATABASE_URL="postgres://postgres@127.0.0.1:$BENCH_PG_PORT/$DB" RUST_LOG=warn INTERNAL_TOKEN=$TOKEN \
  JWT_SECRET=$JWT_SECRET AMQP_EXCHANGE="bench.$$.commerce.events" AMQP_QUEUE_PREFIX="bench.$$."
"$CATALOG" migrate >&2
"$CATALOG" seed --demo >&2
"$CART" migrate >&2
# 100 products with plenty of stock, so adds measure the reservation path, not refusals.
"${PSQL[@]}" -d "$DB" <<SQL
SET search_path TO catalog;
INSERT INTO products (sku, name, slug, price_cents, currency, attributes, stock_quantity, reserved_quantity, status)
SELECT 'BENCH-' || g, 'Bench product ' || g, 'bench-' || g, 100 + g * 37, 'USD', '{}', 1000000, 0, 'active'
FROM generate_series(4, 100) AS g;
UPDATE products SET stock_quantity = 1000000, reserved_quantity = 0;
SQL

wait_health() {
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0
    sleep 0.05
  done
  cat "$2" >&2
  exit 1
}
HTTP_ADDR=127.0.0.1:$CATALOG_PORT REDIS_KEY_PREFIX="${PREFIX}catalog:" "$CATALOG" serve >"$WORK/catalog.log" 2>&1 &
pids+=($!)
catalog_pid=$!
wait_health "$CATALOG_PORT" "$WORK/catalog.log"
HTTP_ADDR=127.0.0.1:$CART_PORT REDIS_KEY_PREFIX="${PREFIX}cart:" CATALOG_URL=http://127.0.0.1:$CATALOG_PORT \
  "$CART" serve >"$WORK/cart.log" 2>&1 &
pids+=($!)
cart_pid=$!
wait_health "$CART_PORT" "$WORK/cart.log"

base=http://127.0.0.1:$CART_PORT/api/v1/carts
new_guest() { curl -sfS -D "$WORK/h" -o "$WORK/b" -X POST "$base" && jq -r .id "$WORK/b" && tr -d '\r' <"$WORK/h" | awk -F': ' 'tolower($1) == "x-cart-token" {print $2}'; }
add() { curl -sfS -o /dev/null -X POST "$base/$1/items" -H 'content-type: application/json' "${@:3}" -d "{\"product_id\": $2, \"quantity\": 1}"; }

# A guest cart and a customer's cart with three lines each, for the reads.
mapfile -t g < <(new_guest)
for p in 1 2 3; do add "${g[0]}" "$p" -H "x-cart-token: ${g[1]}"; done
JWT=$(python3 - "$JWT_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=")
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "bench-customer", "exp": int(time.time()) + 3600}).encode())
s = b(hmac.new(sys.argv[1].encode(), h + b"." + p, hashlib.sha256).digest())
print((h + b"." + p + b"." + s).decode())
PY
)
customer=$(curl -sfS -X POST "$base" -H "authorization: Bearer $JWT" | jq -r .id)
for p in 1 2 3; do add "$customer" "$p" -H "authorization: Bearer $JWT"; done

# Carts for the adds: "id token" per line.
for _ in $(seq "$CARTS"); do new_guest | paste -sd' '; done >"$WORK/carts.txt"
cat >"$WORK/add.lua" <<'LUA'
local carts = {}
for line in io.lines(os.getenv("CARTS_FILE")) do
  local id, token = line:match("(%S+) (%S+)")
  carts[#carts + 1] = {id = id, token = token}
end
local n = 0
local counter = 0
-- Each thread starts at its own place in the list (setup runs in the main Lua state and sets
-- the global `offset` in each thread's).
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end
function request()
  n = n + 1
  local off = offset or 0
  local c = carts[((n + off) % #carts) + 1]
  local product = ((n * 13 + off) % 100) + 1
  return wrk.format("POST", "/api/v1/carts/" .. c.id .. "/items",
    {["Content-Type"] = "application/json", ["X-Cart-Token"] = c.token},
    '{"product_id":' .. product .. ',"quantity":1}')
end
LUA

# The baseline: the exact bytes of the guest cart read, served by NGINX.
mkdir -p "$WORK/root" "$WORK/logs"
curl -sf "$base/${g[0]}" -H "x-cart-token: ${g[1]}" >"$WORK/root/cart.json"
static_nginx_start "$NGINX" "$WORK" "$NGINX_PORT"

run() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  if grep -q "Non-2xx" <<<"$out"; then say "WARNING: $(grep Non-2xx <<<"$out") from ${*: -1}"; fi
  awk '/Requests\/sec/ {r=$2} $1 == "50%" {p50=$2} $1 == "99%" {p99=$2} END {print r, p50, p99}' <<<"$out"
}

say "measuring (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
read -r base_rps base_p50 base_p99 < <(run "http://127.0.0.1:$NGINX_PORT/cart.json")
row() { printf '%-46s %10.0f %9s %9s %8.3f\n' "$1" "$2" "$3" "$4" "$(awk -v a="$2" -v b="$base_rps" 'BEGIN {print a / b}')"; }
printf '%-46s %10s %9s %9s %8s\n' "case" "req/s" "p50" "p99" "×nginx"
row "nginx static (the guest cart's bytes)" "$base_rps" "$base_p50" "$base_p99"
read -r rps p50 p99 < <(run -H "x-cart-token: ${g[1]}" "$base/${g[0]}")
row "GET guest cart (3 lines)" "$rps" "$p50" "$p99"
bench_target "GET guest cart ÷ NGINX" "$rps" req/s ">=" 0.4 "$base_rps req/s"
read -r rps p50 p99 < <(run -H "authorization: Bearer $JWT" "$base/$customer")
row "GET customer cart (3 lines)" "$rps" "$p50" "$p99"
bench_target "GET customer cart ÷ NGINX" "$rps" req/s ">=" 0.4 "$base_rps req/s"
read -r rps p50 p99 < <(CARTS_FILE="$WORK/carts.txt" run -s "$WORK/add.lua" "http://127.0.0.1:$CART_PORT")
row "POST add to cart (reserve/resize in catalog)" "$rps" "$p50" "$p99"
bench_target "add to cart req/s" "$rps" req/s ">=" 2000
bench_target "add to cart p99" "$(bench_ms "$p99")" ms "<=" 20

# Where an add's time goes: cart's own histogram of its catalog calls (mean per operation).
echo
echo "catalog calls seen by cart during the run (count, mean):"
curl -sf "http://127.0.0.1:$CART_PORT/metrics" | awk '
  /^cart_catalog_call_seconds_sum/ {match($0, /operation="[a-z]+"/); op=substr($0, RSTART+11, RLENGTH-12); sum[op]+=$2}
  /^cart_catalog_call_seconds_count/ {match($0, /operation="[a-z]+"/); op=substr($0, RSTART+11, RLENGTH-12); n[op]+=$2}
  END {for (op in n) if (n[op] > 0) printf "  %-8s %8d calls, mean %.2f ms\n", op, n[op], 1000 * sum[op] / n[op]}'

rss() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
reserved=$("${PSQL[@]}" -d "$DB" -Atc "SELECT sum(reserved_quantity) FROM catalog.products")
lines=$("${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM catalog.reservations WHERE status = 'active'")
printf '\npeak RSS: cart %s MB, catalog %s MB\n' "$(rss "$cart_pid")" "$(rss "$catalog_pid")"
printf 'catalog after the run: %s units reserved in %s active reservations\n' "$reserved" "$lines"
