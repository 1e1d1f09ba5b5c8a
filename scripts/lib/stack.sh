# shellcheck shell=bash
# A whole purchase stack on scratch state, for scripts that drive it from outside (the README
# demo, the OpenAPI fuzzing, the storefront in a browser): a scratch database on the local
# PostgreSQL, its own Redis prefix, exchange and queue prefix, the four services, the order
# worker, the Stripe emulator, an SMTP sink and the NGINX gateway (serving storefront/ with
# the emulator as its Stripe, publishable key pk_test_demo), all on ports from
# STACK_PORT_BASE (default 18300: gateway = base, catalog +1, cart +2, order +3,
# payment-webhook +4, emulator +5, worker +6, SMTP +25). Sourced; `stack_start` sets:
#   STACK_GW, STACK_STRIPE (URLs), STACK_MAILS (CSV file of the mails sent), STACK_WORK (logs)
# and removes everything on exit (KEEP_STACK=1 keeps the logs directory).
# shellcheck source=scripts/lib/scratch.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

STACK_PIDS=()
STACK_WORK=""
STACK_DB=commerce_stack_$$

# stack_stop: kills the processes, drops the database, keys, queues and exchange.
stack_stop() {
  set +e
  for p in "${STACK_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${STACK_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  STACK_PIDS=()
  scratch_drop_db "$STACK_DB"
  scratch_drop_redis "stack:$$:*"
  scratch_drop_broker "stack.$$." "stack.$$.commerce.events"
  [[ -n ${KEEP_STACK:-} || -z $STACK_WORK ]] || rm -rf "$STACK_WORK"
}

# stack_wait_http URL PID NAME: waits (30 s) for URL to answer, or fails with the log's tail.
stack_wait_http() {
  local url=$1 pid=$2 name=$3
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$url" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$STACK_WORK/$name.log" >&2
  echo "stack: $name did not start" >&2
  return 1
}

# stack_start: builds the binaries (debug), starts everything and waits for every /health.
stack_start() {
  local base=${STACK_PORT_BASE:-18300}
  STACK_WORK=$(mktemp -d /tmp/commerce-stack.XXXXXX)
  scripts/ensure-services.sh >/dev/null
  cargo build -q -p catalog --bin catalog -p cart --bin cart -p order --bin order -p payment-webhook \
    --bin payment-webhook -p stripe-emulator --bin stripe-emulator >&2
  cargo build -q -p order --example chaos_load >&2
  local bin=target/debug
  trap stack_stop EXIT
  scratch_fresh_db "$STACK_DB"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$STACK_DB" RUST_LOG=warn SHUTDOWN_DRAIN_SECONDS=0 \
    AMQP_EXCHANGE="stack.$$.commerce.events" AMQP_QUEUE_PREFIX="stack.$$." TRUSTED_PROXIES=127.0.0.1/32
  local catalog=$((base + 1)) cart=$((base + 2)) order=$((base + 3)) webhook=$((base + 4))
  local stripe=$((base + 5)) worker=$((base + 6)) smtp=$((base + 25))
  for s in catalog cart order payment-webhook; do "$bin/$s" migrate >>"$STACK_WORK/migrate.log" 2>&1; done
  "$bin/catalog" seed --demo >>"$STACK_WORK/migrate.log" 2>&1
  export STRIPE_API_BASE="http://127.0.0.1:$stripe" STRIPE_SECRET_KEY=sk_test_demo STRIPE_WEBHOOK_SECRET=whsec_stack$$ \
    CATALOG_URL="http://127.0.0.1:$catalog" CART_URL="http://127.0.0.1:$cart" SMTP_URL="smtp://127.0.0.1:$smtp"
  stack_run() { # name port command...
    local name=$1 port=$2
    shift 2
    env HTTP_ADDR="127.0.0.1:$port" REDIS_KEY_PREFIX="stack:$$:$name:" "$@" >"$STACK_WORK/$name.log" 2>&1 &
    STACK_PIDS+=($!)
    stack_wait_http "http://127.0.0.1:$port/health" "${STACK_PIDS[-1]}" "$name"
  }
  STACK_MAILS="$STACK_WORK/mails.csv"
  "$bin/examples/chaos_load" smtp --listen "127.0.0.1:$smtp" --out "$STACK_MAILS" &
  STACK_PIDS+=($!)
  stack_run stripe-emulator "$stripe" env STRIPE_WEBHOOK_URL="http://127.0.0.1:$base/webhooks/stripe" "$bin/stripe-emulator" serve
  stack_run catalog "$catalog" "$bin/catalog" serve
  stack_run cart "$cart" "$bin/cart" serve
  stack_run payment-webhook "$webhook" "$bin/payment-webhook" serve
  stack_run order "$order" "$bin/order" serve
  stack_run worker "$worker" "$bin/order" worker
  GATEWAY_LISTEN=$base GATEWAY_ACCESS_LOG=off CATALOG_ADDR="127.0.0.1:$catalog" CART_ADDR="127.0.0.1:$cart" \
    ORDER_ADDR="127.0.0.1:$order" PAYMENT_WEBHOOK_ADDR="127.0.0.1:$webhook" \
    STOREFRONT_STRIPE_URL="http://127.0.0.1:$stripe" STOREFRONT_PUBLISHABLE_KEY=pk_test_demo scripts/gateway.sh run >"$STACK_WORK/gateway.log" 2>&1 &
  STACK_PIDS+=($!)
  stack_wait_http "http://127.0.0.1:$base/health" "${STACK_PIDS[-1]}" gateway
  STACK_GW="http://127.0.0.1:$base" STACK_STRIPE="http://127.0.0.1:$stripe"
}
