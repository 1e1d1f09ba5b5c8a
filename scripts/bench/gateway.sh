#!/usr/bin/env bash
# Benchmark of the local gateway's own cost (`make bench`): the same answer fetched from an
# upstream directly and through the gateway (deploy/nginx/, rendered by scripts/gateway.sh),
# same wrk settings, one run, side by side. The upstream is NGINX returning a fixed JSON
# body, so the difference is the gateway's proxy hop alone (routing, headers, keepalive).
#
#   DURATION=5 CONNECTIONS=32 scripts/bench/gateway.sh
#
# Ports 18281 (upstream) and 18280 (gateway), loopback only; everything it starts is stopped
# at the end. Numbers compare runs on one machine: wrk and both NGINX share the same cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
bench_lock

DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
UPSTREAM_PORT=18281
GATEWAY_PORT=18280
WORK=$(mktemp -d /tmp/commerce-bench-gateway.XXXXXX)


NGINX=$(scripts/gateway.sh nginx)
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >&2
fi

pids=()
cleanup() {
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null && wait "${pids[@]}" 2>/dev/null
  rm -rf "$WORK"
  bench_summary_end
}
trap cleanup EXIT

# The upstream: every path answers the same small JSON document.
mkdir -p "$WORK/up" && chmod 755 "$WORK" "$WORK/up"
cat >"$WORK/up/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $WORK/up/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/up/body; proxy_temp_path $WORK/up/proxy;
  fastcgi_temp_path $WORK/up/fastcgi; uwsgi_temp_path $WORK/up/uwsgi; scgi_temp_path $WORK/up/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UPSTREAM_PORT;
    default_type application/json;
    location / { return 200 '{"data":[{"id":1,"sku":"TSHIRT-BLK-M","price":{"amount":29.99}}],"meta":{"total":1}}'; }
  }
}
NGINX
"$NGINX" -e stderr -p "$WORK/up" -c "$WORK/up/nginx.conf" &
pids+=("$!")

GATEWAY_LISTEN=127.0.0.1:$GATEWAY_PORT GATEWAY_ACCESS_LOG=off \
  CATALOG_ADDR=127.0.0.1:$UPSTREAM_PORT scripts/gateway.sh render "$WORK/gw"
"$NGINX" -e stderr -p "$WORK/gw" -c "$WORK/gw/nginx.conf" &
pids+=("$!")

up() { curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; }
for url in "http://127.0.0.1:$UPSTREAM_PORT/" "http://127.0.0.1:$GATEWAY_PORT/health"; do
  end=$((SECONDS + 10))
  until up "$url"; do
    ((SECONDS < end)) || {
      say "no answer from $url"
      exit 1
    }
    sleep 0.1
  done
done

# wrk prints "Requests/sec: N" and, with --latency, "50% 1.23ms" ... "99% 4.56ms".
run() {
  local out rps p50 p99
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p50 $p99"
}

say "measuring (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
read -r base_rps base_p50 base_p99 < <(run "http://127.0.0.1:$UPSTREAM_PORT/api/v1/products")
printf '\n%-46s %10s %9s %9s %9s\n' "case" "req/s" "p50" "p99" "×direct"
printf '%-46s %10.0f %9s %9s %9s\n' "upstream directly (baseline)" "$base_rps" "$base_p50" "$base_p99" "1.00"
cases=(
  "through the gateway: GET /api/v1/products|http://127.0.0.1:$GATEWAY_PORT/api/v1/products"
  "the gateway's own GET /health|http://127.0.0.1:$GATEWAY_PORT/health"
)
for c in "${cases[@]}"; do
  name=${c%%|*} url=${c#*|}
  read -r rps p50 p99 < <(run "$url")
  printf '%-46s %10.0f %9s %9s %9.2f\n' "$name" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v b="$base_rps" 'BEGIN {print a / b}')"
  bench_target "$name ÷ direct" "$rps" req/s ">=" - "$base_rps req/s"
done
