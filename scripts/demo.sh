#!/usr/bin/env bash
# The README's five-minute purchase, as a script (`make demo`; `make test` runs it standalone,
# so the README cannot drift from what works). Every step goes through the gateway, like a
# front end: browse, guest cart, add, checkout, pay at the Stripe emulator (the card step
# Stripe.js does in a browser), read the order until it is paid, find the confirmation email.
#
#   scripts/demo.sh               against `make dev` (gateway :8080, emulator :12111, mails :1080)
#   scripts/demo.sh --standalone  starts its own stack first (scratch database on the local
#                                 PostgreSQL, its own Redis prefix, exchange and ports) and
#                                 removes it after
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/scratch.sh
source scripts/lib/scratch.sh

GW=${GW:-http://localhost:8080}
STRIPE=${STRIPE:-http://localhost:12111}
STRIPE_KEY=${STRIPE_KEY:-sk_test_dev}
MAILS=${MAILS:-http://localhost:1080/email}

say() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }
fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }

# The standalone stack's state is global: the EXIT trap needs it after standalone() returned.
pids=()
work=""
db=commerce_demo_$$
psql=(psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1)
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  scratch_drop_redis "demo:$$:*"
  scratch_drop_broker "demo.$$." "demo.$$.commerce.events"
  [[ -n ${KEEP_DEMO:-} || -z $work ]] || rm -rf "$work"
}

standalone() {
  local port_base=18300
  work=$(mktemp -d /tmp/commerce-demo.XXXXXX)
  scripts/ensure-services.sh >/dev/null
  cargo build -q -p catalog --bin catalog -p cart --bin cart -p order --bin order -p payment-webhook \
    --bin payment-webhook -p stripe-emulator --bin stripe-emulator >&2
  cargo build -q -p order --example chaos_load >&2
  local bin=target/debug
  trap cleanup EXIT
  "${psql[@]}" -d postgres -c "CREATE DATABASE $db"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" RUST_LOG=warn SHUTDOWN_DRAIN_SECONDS=0 \
    AMQP_EXCHANGE="demo.$$.commerce.events" AMQP_QUEUE_PREFIX="demo.$$." TRUSTED_PROXIES=127.0.0.1/32
  local catalog=$((port_base + 1)) cart=$((port_base + 2)) order=$((port_base + 3)) webhook=$((port_base + 4))
  local stripe=$((port_base + 5)) worker=$((port_base + 6)) smtp=$((port_base + 25))
  for s in catalog cart order payment-webhook; do "$bin/$s" migrate >>"$work/migrate.log" 2>&1; done
  "$bin/catalog" seed --demo >>"$work/migrate.log" 2>&1
  export STRIPE_API_BASE="http://127.0.0.1:$stripe" STRIPE_SECRET_KEY=sk_test_demo STRIPE_WEBHOOK_SECRET=whsec_demo$$ \
    CATALOG_URL="http://127.0.0.1:$catalog" CART_URL="http://127.0.0.1:$cart" SMTP_URL="smtp://127.0.0.1:$smtp"
  run() { # name port command...
    local name=$1 port=$2
    shift 2
    env HTTP_ADDR="127.0.0.1:$port" REDIS_KEY_PREFIX="demo:$$:$name:" "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do
      curl -sf -o /dev/null "http://127.0.0.1:$port/health" && return 0
      kill -0 "${pids[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    tail -20 "$work/$name.log" >&2
    fail "$name did not start"
  }
  "$bin/examples/chaos_load" smtp --listen "127.0.0.1:$smtp" --out "$work/mails.csv" &
  pids+=($!)
  run stripe-emulator "$stripe" env STRIPE_WEBHOOK_URL="http://127.0.0.1:$port_base/webhooks/stripe" "$bin/stripe-emulator" serve
  run catalog "$catalog" "$bin/catalog" serve
  run cart "$cart" "$bin/cart" serve
  run payment-webhook "$webhook" "$bin/payment-webhook" serve
  run order "$order" "$bin/order" serve
  run worker "$worker" "$bin/order" worker
  GATEWAY_LISTEN=$port_base GATEWAY_ACCESS_LOG=off CATALOG_ADDR="127.0.0.1:$catalog" CART_ADDR="127.0.0.1:$cart" \
    ORDER_ADDR="127.0.0.1:$order" PAYMENT_WEBHOOK_ADDR="127.0.0.1:$webhook" scripts/gateway.sh run >"$work/gateway.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port_base/health" && break; sleep 0.1; done
  GW="http://127.0.0.1:$port_base" STRIPE="http://127.0.0.1:$stripe" STRIPE_KEY=sk_test_demo MAILS="file://$work/mails.csv"
}

if ! command -v jq >/dev/null; then
  command -v apt-get >/dev/null || fail "jq is needed (https://jqlang.github.io/jq/)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq >/dev/null; }
fi
[[ ${1:-} == --standalone ]] && standalone

# --- the walkthrough (README, "A purchase in five minutes") ------------------------------
# walkthrough-start
# 1. Browse: the catalog through the gateway (the seed's filters: search, price, category).
curl -s "$GW/api/v1/products?search=shirt&min_price=10&max_price=50" | jq '.data[] | {sku, name, price}'

# 2. A guest cart: its id and the token that opens it.
CART_JSON=$(curl -s -X POST "$GW/api/v1/carts")
CART=$(jq -r .id <<<"$CART_JSON")
TOKEN=$(jq -r .token <<<"$CART_JSON")

# 3. Two T-shirts (stock is reserved as the line is added).
curl -s -X POST "$GW/api/v1/carts/$CART/items" -H "X-Cart-Token: $TOKEN" \
  -H 'Content-Type: application/json' -d '{"sku": "TSHIRT-BLK-M", "quantity": 2}' | jq '.totals'

# 4. Checkout: the order and its Stripe PaymentIntent (the key makes a retry safe).
ADDRESS='{"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}'
ORDER_JSON=$(curl -s -X POST "$GW/api/v1/checkout" -H "X-Cart-Token: $TOKEN" \
  -H "Idempotency-Key: demo-$CART" -H 'Content-Type: application/json' \
  -d "{\"cart_id\": \"$CART\", \"customer_email\": \"ada@example.com\", \"customer_name\": \"Ada\",
       \"shipping_address\": $ADDRESS, \"billing_address\": $ADDRESS}")
NUMBER=$(jq -r .order_number <<<"$ORDER_JSON")
PI=$(jq -r .payment.payment_intent_id <<<"$ORDER_JSON")
ACCESS=$(jq -r .access_token <<<"$ORDER_JSON")
jq '{order_number, status, totals}' <<<"$ORDER_JSON"

# 5. Pay: the card step Stripe.js does in the browser, here at the Stripe emulator. Stripe then
#    calls the webhook, and the order service reads the payment back from Stripe.
curl -s -X POST "$STRIPE/v1/payment_intents/$PI/confirm" -H "Authorization: Bearer $STRIPE_KEY" \
  -d payment_method=pm_card_visa | jq '{id, status, amount_received}'

# 6. The order, read with its access token until it is paid.
for _ in $(seq 100); do
  STATUS=$(curl -s "$GW/api/v1/orders/$NUMBER" -H "X-Order-Token: $ACCESS" | jq -r .status)
  [[ $STATUS == paid ]] && break
  sleep 0.1
done
curl -s "$GW/api/v1/orders/$NUMBER" -H "X-Order-Token: $ACCESS" | jq '{order_number, status, payment_status}'
# walkthrough-end

[[ ${STATUS:-} == paid ]] || fail "order $NUMBER is not paid (status ${STATUS:-none})"
say "order $NUMBER paid"

# 7. The confirmation email (make dev: the mail sink's page; standalone: the sink's log).
for _ in $(seq 150); do
  case $MAILS in
    file://*) grep -q "order.paid" "${MAILS#file://}" 2>/dev/null && found=1 ;;
    *) curl -s "$MAILS" | jq -e --arg n "$NUMBER" 'map(select(.subject | contains($n))) | length > 0' >/dev/null 2>&1 && found=1 ;;
  esac
  [[ -n ${found:-} ]] && break
  sleep 0.2
done
[[ -n ${found:-} ]] || fail "no confirmation email for $NUMBER"
say "confirmation email sent for $NUMBER"
