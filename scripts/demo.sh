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

GW=${GW:-http://localhost:8080}
STRIPE=${STRIPE:-http://localhost:12111}
STRIPE_KEY=${STRIPE_KEY:-sk_test_dev}
MAILS=${MAILS:-http://localhost:1080/email}

say() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }
fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }

standalone() {
  # shellcheck source=scripts/lib/stack.sh
  source scripts/lib/stack.sh
  STACK_PORT_BASE=${STACK_PORT_BASE:-18300} stack_start
  GW=$STACK_GW STRIPE=$STACK_STRIPE STRIPE_KEY=sk_test_demo MAILS="file://$STACK_MAILS"
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
