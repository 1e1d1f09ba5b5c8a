#!/usr/bin/env bash
# Benchmark of POST /webhooks/stripe (`make bench-webhook`): the release payment-webhook takes
# signed, unique Stripe events over loopback for a fixed time (examples/webhook_load.rs, one
# request in flight per connection); then every accepted event is counted on a queue bound to
# `payment.#`: accepted = published, no duplicates, or the script fails.
#
#   DURATION=10 CONNECTIONS=32 scripts/bench/webhook.sh
#   WEBHOOK_BATCH_WINDOW_US=0 WEBHOOK_BATCH_IN_FLIGHT=2 BASELINE=0 scripts/bench/webhook.sh
#
# The service reads the group-commit settings (WEBHOOK_BATCH_WINDOW_US, WEBHOOK_BATCH_MAX,
# WEBHOOK_BATCH_IN_FLIGHT) from the environment as usual; BASELINE=0 skips pgbench (to compare
# settings quickly). After the load the script prints how many statements the service ran and
# the mean events per statement (payment_webhook_batch_events).
#
# Baseline, measured first in the same run: pgbench replaying the statement the service runs for
# one event (the stripe_events insert and the outbox insert in one data-modifying CTE) with as
# many clients as the service's pool, so the table shows how much of PostgreSQL's own rate the
# service reaches.
#
# It uses its own database (commerce_bench_webhook), port (18184) and exchange
# (bench.webhook.events), and removes what it started when it ends. The load generator, the
# service, PostgreSQL and RabbitMQ share the same cores: compare runs on one machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
bench_lock

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
DB=commerce_bench_webhook
PORT=18184
EXCHANGE=bench.webhook.events
SECRET=whsec_bench_$RANDOM$RANDOM
AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
WORK=$(mktemp -d /tmp/webhook-bench.XXXXXX)
PSQL=(psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1)


scripts/ensure-services.sh >&2
# pgbench replays with as many clients as the pool, before the service starts: the larger counts.
bench_pg_connections payment-webhook="$DB_POOL_SIZE"

bench_build release
BIN=target/release/payment-webhook
LOAD=target/release/examples/webhook_load

service_pid=""
cleanup() {
  [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  scratch_drop_db "$DB"
  # The relay declared the exchange durable; the load generator deletes its counting queue itself.
  scratch_drop_exchange "$EXCHANGE"
  rm -rf "$WORK"
  bench_summary_end
}
trap cleanup EXIT

scratch_fresh_db "$DB"
export DATABASE_URL="postgres://postgres@127.0.0.1:$BENCH_PG_PORT/$DB" AMQP_URL AMQP_EXCHANGE=$EXCHANGE \
  STRIPE_WEBHOOK_SECRET=$SECRET RUST_LOG=warn
"$BIN" migrate >&2

POOL=$DB_POOL_SIZE
baseline=""
if [[ ${BASELINE:-1} == 0 ]]; then
  say "BASELINE=0: no pgbench baseline"
elif command -v pgbench >/dev/null; then
  say "baseline: pgbench, the per-event transaction alone, $POOL clients, ${DURATION}s"
  cat >"$WORK/event.sql" <<'SQL'
WITH ev AS (
  INSERT INTO payments.stripe_events (id, type, created, api_version, livemode, payload, order_id,
    payment_intent_id, published_type, flags)
  VALUES ('evt_' || :client_id || '_' || random(), 'payment_intent.succeeded', to_timestamp(1700000000), '2024-06-20', false,
    '{"id": "evt_x", "object": "event", "type": "payment_intent.succeeded", "created": 1700000000, "livemode": false, "data": {"object": {"id": "pi_bench_1", "object": "payment_intent", "amount": 2999, "amount_received": 2999, "currency": "usd", "status": "succeeded", "metadata": {"order_id": "1"}}}}',
    1, 'pi_bench_1', 'payment.succeeded', '{}')
  ON CONFLICT (id) DO NOTHING RETURNING true AS inserted
), ob AS (
  INSERT INTO payments.outbox (id, event_type, payload, headers)
  SELECT gen_random_uuid(), 'payment.succeeded', '{"id": "0190", "type": "payment.succeeded", "version": 1, "occurred_at": "2026-11-26T12:00:00Z", "source": "payment-webhook", "correlation_id": null, "data": {"order_id": 1, "payment_intent_id": "pi_bench_1", "amount_cents": 2999, "currency": "USD", "stripe_event_id": "evt_x", "stripe_created": 1700000000}}', '{}' FROM ev
)
SELECT inserted FROM ev;
SQL
  out=$(pgbench -n -h 127.0.0.1 -U postgres -c "$POOL" -j 2 -T "$DURATION" -M prepared -f "$WORK/event.sql" "$DB" 2>&1)
  baseline=$(awk '/^tps/ {printf "%.0f", $3}' <<<"$out")
  base_lat=$(awk '/latency average/ {print $4}' <<<"$out")
  "${PSQL[@]}" -d "$DB" -c "TRUNCATE payments.stripe_events, payments.outbox"
else
  say "pgbench not installed: no baseline"
fi

HTTP_ADDR=127.0.0.1:$PORT "$BIN" serve >"$WORK/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break
  sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || { cat "$WORK/service.log" >&2; exit 1; }

say "firing signed events for ${DURATION}s over $CONNECTIONS connections (batch window ${WEBHOOK_BATCH_WINDOW_US:-default} us, max ${WEBHOOK_BATCH_MAX:-default}, in flight ${WEBHOOK_BATCH_IN_FLIGHT:-default})"
"$LOAD" --url "http://127.0.0.1:$PORT/webhooks/stripe" --secret "$SECRET" --amqp-url "$AMQP_URL" \
  --exchange "$EXCHANGE" --seconds "$DURATION" --connections "$CONNECTIONS" | tee "$WORK/load.txt"
if [[ -n $baseline ]]; then
  read -r rate p50 p99 < <(awk '/^accepted\/s/ {print $2, $4, $7}' "$WORK/load.txt")
  printf '\n%-54s %9s %10s %10s %7s\n' "case" "events/s" "p50 ms" "p99 ms" "ratio"
  printf '%-54s %9s %10s %10s %7s\n' "PostgreSQL alone: the per-event statement (pgbench)" "$baseline" "avg $base_lat" "" "1.00"
  printf '%-54s %9s %10s %10s %7.2f\n' "payment-webhook: HTTP, verify, store, outbox, relay" "$rate" "$p50" "$p99" \
    "$(awk -v a="$rate" -v b="$baseline" 'BEGIN {print a / b}')"
  bench_target "events/s ÷ the statement alone (pgbench)" "$rate" events/s ">=" - "$baseline events/s"
fi
# Where a request's time goes, from the service's own metrics: the whole request as the server
# saw it, and the batches (events per statement, time per statement).
read -r statements batched seconds requests request_seconds < <(curl -sf "http://127.0.0.1:$PORT/metrics" | awk '
  /^payment_webhook_batch_events_count / {c = $2} /^payment_webhook_batch_events_sum / {s = $2}
  /^payment_webhook_batch_seconds_sum / {t = $2}
  /http_requests_duration_seconds_count\{.*endpoint="\/webhooks\/stripe".*status="200"/ {n = $2}
  /http_requests_duration_seconds_sum\{.*endpoint="\/webhooks\/stripe".*status="200"/ {r = $2}
  END {print c + 0, s + 0, t + 0, n + 0, r + 0}')
say "server side: $(awk -v n="$requests" -v r="$request_seconds" 'BEGIN {if (n) printf "%.2f", 1000 * r / n}') ms per request (mean)"
if [[ $statements != 0 ]]; then
  say "group commit: $batched events in $statements statements, $(awk -v s="$statements" -v b="$batched" -v t="$seconds" \
    'BEGIN {printf "%.1f events and %.2f ms (check-out, statement, commit) per statement", b / s, 1000 * t / s}')"
fi
stored=$("${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM payments.stripe_events")
outbox=$("${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM payments.outbox")
say "database: $stored stripe_events, $outbox outbox rows"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$service_pid/status" 2>/dev/null || echo "?")
say "payment-webhook peak RSS: ${rss} kB"
