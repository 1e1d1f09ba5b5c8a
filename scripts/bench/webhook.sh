#!/usr/bin/env bash
# Benchmark of POST /webhooks/stripe (`make bench-webhook`): the release payment-webhook takes
# signed, unique Stripe events over loopback for a fixed time (examples/webhook_load.rs, one
# request in flight per connection); then every accepted event is counted on a queue bound to
# `payment.#`: accepted = published, no duplicates, or the script fails.
#
#   DURATION=10 CONNECTIONS=32 scripts/bench/webhook.sh
#
# It uses its own database (commerce_bench_webhook), port (18184) and exchange
# (bench.webhook.events), and removes what it started when it ends. The load generator, the
# service, PostgreSQL and RabbitMQ share the same cores: compare runs on one machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
DB=commerce_bench_webhook
PORT=18184
EXCHANGE=bench.webhook.events
SECRET=whsec_bench_$RANDOM$RANDOM
AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
WORK=$(mktemp -d /tmp/webhook-bench.XXXXXX)
PSQL=(psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1)

say() { printf 'bench: %s\n' "$*" >&2; }

scripts/ensure-services.sh >&2

say "building the release payment-webhook and the load generator"
cargo build --release --locked -p payment-webhook --bin payment-webhook --example webhook_load >&2
BIN=target/release/payment-webhook
LOAD=target/release/examples/webhook_load

service_pid=""
cleanup() {
  [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" AMQP_URL AMQP_EXCHANGE=$EXCHANGE \
  STRIPE_WEBHOOK_SECRET=$SECRET RUST_LOG=warn
"$BIN" migrate >&2

HTTP_ADDR=127.0.0.1:$PORT "$BIN" serve >"$WORK/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break
  sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || { cat "$WORK/service.log" >&2; exit 1; }

say "firing signed events for ${DURATION}s over $CONNECTIONS connections"
"$LOAD" --url "http://127.0.0.1:$PORT/webhooks/stripe" --secret "$SECRET" --amqp-url "$AMQP_URL" \
  --exchange "$EXCHANGE" --seconds "$DURATION" --connections "$CONNECTIONS"
stored=$("${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM payments.stripe_events")
outbox=$("${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM payments.outbox")
say "database: $stored stripe_events, $outbox outbox rows"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$service_pid/status" 2>/dev/null || echo "?")
say "payment-webhook peak RSS: ${rss} kB"
