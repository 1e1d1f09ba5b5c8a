#!/usr/bin/env bash
# shellcheck disable=SC2016 # single-quoted bash -c bodies expand their own "$1"
# Run the whole back end locally (`make dev`):
#
#   1. make sure PostgreSQL, Redis and RabbitMQ are up (scripts/ensure-services.sh)
#   2. build every binary, run each service's migrations, seed the demo catalog
#   3. start every service present in services/ with pretty logs, each output
#      line prefixed with the service name, and wait until /health answers
#   3b. with services/order: an SMTP sink with a web page (maildev from npm, SMTP :1025,
#       web :1080; DEV_MAIL_WEB_PORT) and `order worker` (probes on :8093) sending to it
#   4. start the NGINX gateway (deploy/nginx/, scripts/gateway.sh) on :8080 in
#      front of them, routing like the production Ingresses (nginx from apt when
#      missing); DEV_GATEWAY_PORT changes the port
#
# Ctrl-C (or SIGTERM) stops all of them: they get SIGTERM, and SIGKILL after
# a grace period. When one service exits on its own, the others are stopped too.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Service -> port (ARCHITECTURE.md §6). A service whose services/<name> folder
# does not exist yet is skipped.
SERVICES=(catalog cart order payment-webhook)
declare -A PORT=([catalog]=8081 [cart]=8082 [order]=8083 [payment-webhook]=8084)
GATEWAY_PORT=${DEV_GATEWAY_PORT:-8080}
HEALTH_DEADLINE=${DEV_HEALTH_DEADLINE:-60} # seconds for each /health to answer
STOP_GRACE=${DEV_STOP_GRACE:-15}           # seconds between SIGTERM and SIGKILL
BIN_DIR=${CARGO_TARGET_DIR:-target}/debug

say() { printf 'dev: %s\n' "$*"; }
fail() {
  printf 'dev: %s\n' "$*" >&2
  exit 1
}
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

present=()
for s in "${SERVICES[@]}"; do
  [[ -d services/$s ]] && present+=("$s")
done
((${#present[@]} > 0)) || fail "no service folders under services/"

# Refuse to start when a port is taken (an earlier `make dev` still running?).
for s in "${present[@]}"; do
  if port_open "${PORT[$s]}"; then
    fail "$s: port ${PORT[$s]} is already in use (another 'make dev' running?)"
  fi
done
if port_open "$GATEWAY_PORT"; then
  fail "gateway: port $GATEWAY_PORT is already in use (another 'make dev' running? DEV_GATEWAY_PORT=... picks another)"
fi
# Install NGINX now, before the long build, if it is missing.
scripts/gateway.sh nginx >/dev/null

scripts/ensure-services.sh
cargo build --workspace --bins

for s in "${present[@]}"; do
  say "$s migrate"
  "$BIN_DIR/$s" migrate
done
if [[ -d services/catalog ]]; then
  say "catalog seed --demo"
  "$BIN_DIR/catalog" seed --demo
fi

# --- run ------------------------------------------------------------------------
declare -A PID=()
pids=()

# shellcheck disable=SC2317,SC2329 # called from the EXIT trap
stop_all() {
  trap - INT TERM EXIT
  ((${#pids[@]} > 0)) || return 0
  say "stopping ${present[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # npx does not pass SIGTERM on to the node process it started.
  pkill -TERM -f "maildev --ip 127.0.0.1 --smtp 1025" 2>/dev/null || true
  local end=$((SECONDS + STOP_GRACE)) pid
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid did not stop within ${STOP_GRACE}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Stripe emulator (crates/stripe-emulator, ARCHITECTURE.md §7): services reach it through
# STRIPE_API_BASE, and it signs the webhooks it sends payment-webhook with the same secret.
# The local gateway (NGINX on this machine) is the proxy whose X-Forwarded-* headers count.
export TRUSTED_PROXIES=${TRUSTED_PROXIES:-127.0.0.1/32,::1/128}
# Ctrl-C / SIGTERM: answer for 2 s more (with Connection: close) before the listener closes, so
# the gateway's kept-alive connections are not cut under a request.
export SHUTDOWN_DRAIN_SECONDS=${SHUTDOWN_DRAIN_SECONDS:-2}
export STRIPE_API_BASE=${STRIPE_API_BASE:-http://127.0.0.1:12111} STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY:-sk_test_dev} STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_dev}
LOG_FORMAT=pretty HTTP_ADDR=127.0.0.1:12111 STRIPE_WEBHOOK_URL="http://127.0.0.1:${PORT[payment-webhook]}/webhooks/stripe" \
  "$BIN_DIR/stripe-emulator" serve > >(trap '' INT TERM && exec sed -u "s/^/[stripe-emulator] /") 2>&1 &
pids+=("$!")

for s in "${present[@]}"; do
  # Process substitution keeps $! the service's own PID (a pipeline would give
  # sed's), so the trap signals the real process. sed ignores Ctrl-C's SIGINT
  # (sent to the whole process group) so it still prints the shutdown logs; it
  # ends when the service closes its output.
  LOG_FORMAT=pretty HTTP_ADDR="0.0.0.0:${PORT[$s]}" \
    "$BIN_DIR/$s" serve > >(trap '' INT TERM && exec sed -u "s/^/[$s] /") 2>&1 &
  PID[$s]=$!
  pids+=("$!")
done

# The order worker and the SMTP sink it sends to (issue 11): mails are read on the sink's page.
MAIL_WEB_PORT=${DEV_MAIL_WEB_PORT:-1080}
if [[ -d services/order ]]; then
  if command -v npx >/dev/null 2>&1; then
    npx --yes maildev@2.1.0 --ip 127.0.0.1 --smtp 1025 --web "$MAIL_WEB_PORT" \
      > >(trap '' INT TERM && exec sed -u "s/^/[mailsink] /") 2>&1 &
    pids+=("$!")
  else
    say "npx not found: no SMTP sink; the order worker retries its mails until something listens on 127.0.0.1:1025"
  fi
  PORT[order-worker]=8093
  LOG_FORMAT=pretty HTTP_ADDR=127.0.0.1:8093 SMTP_URL=smtp://127.0.0.1:1025 \
    "$BIN_DIR/order" worker > >(trap '' INT TERM && exec sed -u "s/^/[order-worker] /") 2>&1 &
  PID[order-worker]=$!
  pids+=("$!")
fi

# Wait until every /health answers, or a service dies, or the deadline passes.
healthy() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null; }
wait_healthy() {
  local s=$1 end=$((SECONDS + HEALTH_DEADLINE))
  until healthy "${PORT[$s]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null || fail "$s exited before answering /health (see the [$s] lines above)"
    ((SECONDS < end)) || fail "$s: no answer from http://127.0.0.1:${PORT[$s]}/health after ${HEALTH_DEADLINE}s"
    sleep 0.2
  done
}
for s in "${present[@]}"; do
  wait_healthy "$s"
done
[[ -d services/order ]] && wait_healthy order-worker

# The gateway last, so its first requests find the services up.
PORT[gateway]=$GATEWAY_PORT
GATEWAY_LISTEN=$GATEWAY_PORT scripts/gateway.sh run > >(trap '' INT TERM && exec sed -u "s/^/[gateway] /") 2>&1 &
PID[gateway]=$!
pids+=("$!")
wait_healthy gateway
present+=(gateway)

say "all up. Try:"
printf '  curl http://localhost:%s/api/v1/products      (through the gateway, as in production)\n' "$GATEWAY_PORT"
printf '  http://localhost:%s/   (the storefront: card 4242 4242 4242 4242, 3-D Secure 4000 0027 6000 3184)\n' "$GATEWAY_PORT"
for s in "${present[@]}"; do
  case $s in
    catalog) printf '  curl http://localhost:%s/api/v1/products\n' "${PORT[$s]}" ;;
    gateway) ;;
    *) printf '  curl http://localhost:%s/health   (%s)\n' "${PORT[$s]}" "$s" ;;
  esac
done
if [[ -d services/order ]]; then
  printf '  http://localhost:%s   (the emails the order worker sent, in the SMTP sink)\n' "$MAIL_WEB_PORT"
fi
say "Ctrl-C stops everything."

# Foreground wait: returns on Ctrl-C (the trap stops everything) or when any
# service exits (then the others are stopped as well).
status=0
wait -n "${pids[@]}" || status=$?
for s in "${present[@]}"; do
  if ! kill -0 "${PID[$s]}" 2>/dev/null; then say "$s exited (status $status)"; fi
done
# A service stopping on its own is an error for a dev session, even with status 0.
exit $((status == 0 ? 1 : status))
