#!/usr/bin/env bash
# Benchmark of GET /api/v1/products (`make bench`): the release catalog against NGINX serving
# the exact bytes of the default listing as a static file, same wrk settings, one run, side by side.
#
#   SIZE=10000 DURATION=10 CONNECTIONS=32 scripts/bench/catalog-listing.sh
#
# It uses its own database (commerce_bench) and ports (18181 catalog, 18182 nginx) and removes
# what it started when it ends. Numbers are for comparing runs on one machine, not absolutes:
# wrk, the service and PostgreSQL share the same cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

SIZE=${SIZE:-10000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DB=commerce_bench
CATALOG_PORT=18181
NGINX_PORT=18182
WORK=$(mktemp -d /tmp/commerce-bench.XXXXXX)
PSQL=(psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1)

say() { printf 'bench: %s\n' "$*" >&2; }

scripts/ensure-services.sh >&2
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

say "building the release catalog"
cargo build --release --locked -p catalog --bin catalog >&2
BIN=target/release/catalog

catalog_pid=""
nginx_conf="$WORK/nginx.conf"
cleanup() {
  [[ -n $catalog_pid ]] && kill "$catalog_pid" 2>/dev/null && wait "$catalog_pid" 2>/dev/null
  [[ -f $WORK/nginx.pid ]] && "$NGINX" -p "$WORK" -c "$nginx_conf" -s stop 2>/dev/null
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" RUST_LOG=warn
"$BIN" migrate >&2
"$BIN" seed --demo >&2
say "loading $SIZE generated products"
start=$(date +%s.%N)
"${PSQL[@]}" -d "$DB" <<SQL
SET search_path TO catalog;
INSERT INTO products (sku, name, description, slug, price_cents, currency, attributes,
                      stock_quantity, reserved_quantity, status, created_at)
SELECT 'GEN-' || g, initcap(c.color) || ' ' || c.noun || ' ' || g,
       'Generated ' || c.material || ' ' || c.noun || ' for benchmarks, number ' || g,
       'gen-' || g, 500 + (g * 7919) % 50000, 'USD',
       jsonb_build_object('category', c.category, 'color', c.color, 'material', c.material, 'size', (g % 12)::text),
       (g * 31) % 200, (g * 17) % 20, CASE WHEN g % 20 = 0 THEN 'draft' ELSE 'active' END,
       now() - make_interval(secs => g)
FROM generate_series(1, $SIZE) AS g
CROSS JOIN LATERAL (SELECT (ARRAY['clothing','footwear','accessories','outdoor'])[1 + g % 4] AS category,
                           (ARRAY['black','white','blue','red','green'])[1 + g % 5] AS color,
                           (ARRAY['cotton','denim','mesh','leather','wool'])[1 + g % 5] AS material,
                           (ARRAY['shirt','jeans','runner','cap','jacket'])[1 + g % 5] AS noun) AS c;
ANALYZE products;
SQL
load_secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')

HTTP_ADDR=127.0.0.1:$CATALOG_PORT "$BIN" serve >"$WORK/catalog.log" 2>&1 &
catalog_pid=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$CATALOG_PORT/health" >/dev/null && break
  sleep 0.05
done
curl -sf "http://127.0.0.1:$CATALOG_PORT/health" >/dev/null || { cat "$WORK/catalog.log" >&2; exit 1; }

# The baseline: the exact bytes of the default listing, served by NGINX.
mkdir -p "$WORK/root/api/v1" "$WORK/logs"
curl -sf "http://127.0.0.1:$CATALOG_PORT/api/v1/products" >"$WORK/root/api/v1/products"
cat >"$nginx_conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/root;
    location / { default_type application/json; }
  }
}
NGINX
"$NGINX" -p "$WORK" -c "$nginx_conf"

# wrk prints "Requests/sec: N" and, with --latency, "50% 1.23ms" ... "99% 4.56ms".
run() {
  local url=$1 out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p50 $p99"
}

say "measuring (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
read -r base_rps base_p50 base_p99 < <(run "http://127.0.0.1:$NGINX_PORT/api/v1/products")
printf '\n%-44s %10s %9s %9s %8s\n' "case ($SIZE products)" "req/s" "p50" "p99" "×nginx"
printf '%-44s %10.0f %9s %9s %8s\n' "nginx static (default listing bytes)" "$base_rps" "$base_p50" "$base_p99" "1.00"
cases=(
  "default listing|/api/v1/products"
  "category+in_stock+sort_by=price_cents|/api/v1/products?category=clothing&in_stock=true&sort_by=price_cents"
  "price range|/api/v1/products?min_price=50&max_price=100"
  "search=runner|/api/v1/products?search=runner"
  "deep page (page=200)|/api/v1/products?page=200"
)
for c in "${cases[@]}"; do
  name=${c%%|*} path=${c#*|}
  read -r rps p50 p99 < <(run "http://127.0.0.1:$CATALOG_PORT$path")
  printf '%-44s %10.0f %9s %9s %8.3f\n' "$name" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v b="$base_rps" 'BEGIN {print a / b}')"
done
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$catalog_pid/status")
printf '\ncatalog peak RSS: %d MB; data load: %d products in %.1f s (SQL generate_series)\n' \
  "$((rss_kb / 1024))" "$SIZE" "$load_secs"
echo "(the listing has no cache yet: every catalog request above runs its count and page queries)"
