#!/usr/bin/env bash
# The chaos suite (`make test-chaos`; not part of `make test`). For each scenario it starts
# PRIVATE PostgreSQL, Redis and RabbitMQ instances (never the shared ones: ports 35432, 36379,
# 35672), all four services, the order worker, the Stripe emulator and an SMTP sink, runs a
# steady stream of purchases (services/order/examples/chaos_load.rs) while it injects the
# scenario's faults, then lets the system settle and checks every invariant:
#
#   keys       one order per Idempotency-Key (the buyers' view and the database's)
#   intents    one PaymentIntent per order (the emulator's own list)
#   paid       PaymentIntent succeeded <=> order paid or refunded
#   events     every Stripe event stored once, none missing
#   stock      per product: stock taken = committed units = units on paid orders; nothing reserved
#   emails     a confirmation for every paid order (copies are counted, not failures)
#   carts      the cart of every paid order is gone
#   queues     every outbox published, every DLQ empty
#   http500    no 500 answered to any client (503 with Retry-After is the documented advice)
#
# It prints one table row per scenario and exits non-zero when any invariant is broken.
#
#   scripts/chaos/run.sh                       # every scenario
#   SCENARIOS="postgres sigkill" LOAD_SECONDS=30 scripts/chaos/run.sh
#
# Scenarios: postgres (crash + restart), redis (kill -9 + restart), rabbitmq (kill -9 +
# restart), sigkill (each service in turn), sigterm (each service in turn). Settling moves the
# clock on where only time would heal (unpaid checkouts and lapsed reservations are expired by
# the services' own sweepers once their expiry is set to now).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

SCENARIOS=${SCENARIOS:-"postgres redis rabbitmq sigkill sigterm"}
LOAD_SECONDS=${LOAD_SECONDS:-45}
BUYERS=${BUYERS:-6}
PRODUCTS=${PRODUCTS:-12}
STOCK=${STOCK:-200}
FAULT_EVERY=${FAULT_EVERY:-9}
SETTLE_SECONDS=${SETTLE_SECONDS:-180}
PROFILE=${PROFILE:-debug}
PG_PORT=35432 REDIS_PORT=36379 AMQP_PORT=35672 AMQP_DIST_PORT=35673
CATALOG_PORT=35801 CART_PORT=35802 ORDER_PORT=35803 WEBHOOK_PORT=35804 STRIPE_PORT=35805
WORKER_PORT=35806 SMTP_PORT=35825
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
RABBIT_BIN=/usr/lib/rabbitmq/bin
NODE="chaos$$@localhost"
WORK=$(mktemp -d /tmp/commerce-chaos.XXXXXX)
chmod 755 "$WORK"
BIN=target/$PROFILE
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/commerce"
PSQL=(psql -X -q -w -h 127.0.0.1 -p "$PG_PORT" -U postgres -d commerce -v ON_ERROR_STOP=1)

say() { printf 'chaos: %s\n' "$*" >&2; }
as() { # user command...: the servers refuse to run as root
  local user=$1
  shift
  if [[ $(id -u) == 0 ]]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

scripts/ensure-services.sh >/dev/null # installs the server packages on a fresh machine
[[ -x $PG_BIN/initdb ]] || { say "PostgreSQL server binaries not found"; exit 1; }

say "building ($PROFILE)"
flags=(--locked)
[[ $PROFILE == release ]] && flags+=(--release)
cargo build "${flags[@]}" -p catalog --bin catalog -p cart --bin cart -p order --bin order \
  -p payment-webhook --bin payment-webhook -p stripe-emulator --bin stripe-emulator >&2
cargo build "${flags[@]}" -p order --example chaos_load >&2

declare -A CMD PID
redis_pid=""
cleanup() {
  set +e
  for name in "${!PID[@]}"; do kill -9 "${PID[$name]}" 2>/dev/null; done
  [[ -n $redis_pid ]] && kill -9 "$redis_pid" 2>/dev/null
  rabbit_crash
  [[ -d $WORK/pg/data ]] && as postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1
  wait 2>/dev/null
  [[ -n ${KEEP_WORK:-} ]] && { say "kept $WORK"; return; }
  rm -rf "$WORK"
}
trap cleanup EXIT

port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port seconds
  for _ in $(seq $(($2 * 10))); do
    port_open "$1" && return 0
    sleep 0.1
  done
  return 1
}

# --- private servers --------------------------------------------------------------------
pg_start() {
  as postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w start >/dev/null
}
pg_crash() { as postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null; }
redis_start() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
    --appendfsync everysec --save '' >>"$WORK/redis/log" 2>&1 &
  redis_pid=$!
  wait_port "$REDIS_PORT" 20
}
redis_crash() { kill -9 "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true; }
rabbit_start() {
  as rabbitmq env HOME="$(getent passwd rabbitmq | cut -d: -f6)" RABBITMQ_CONF_ENV_FILE=/dev/null \
    RABBITMQ_NODENAME="$NODE" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$AMQP_DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_CONFIG_FILE="$WORK/rabbit/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$WORK/rabbit/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$WORK/rabbit/mnesia" RABBITMQ_LOG_BASE="$WORK/rabbit/log" \
    "$RABBIT_BIN/rabbitmq-server" >>"$WORK/rabbit/out.log" 2>&1 &
  wait_port "$AMQP_PORT" 60
}
rabbit_pids() { # the private node's processes, found by the node name in their environment
  local p
  for p in $(pgrep -f 'beam|erl_child_setup|inet_gethost' || true); do
    { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "RABBITMQ_NODENAME=$NODE" && echo "$p"
  done
}
rabbit_crash() {
  local p
  for p in $(rabbit_pids); do kill -9 "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do port_open "$AMQP_PORT" || break; sleep 0.1; done
}
rabbitctl() { as rabbitmq env HOME="$(getent passwd rabbitmq | cut -d: -f6)" "$RABBIT_BIN/rabbitmqctl" -n "$NODE" "$@" </dev/null; }

servers_up() {
  mkdir -p "$WORK/pg" "$WORK/redis" "$WORK/rabbit"
  chown postgres "$WORK/pg" 2>/dev/null || true
  as postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -A trust -U postgres --no-sync >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 200\nfsync = off\n" \
    "$PG_PORT" "$WORK/pg" >>"$WORK/pg/data/postgresql.conf"
  pg_start
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE commerce"
  redis_start
  printf 'listeners.tcp.local = 127.0.0.1:%s\n' "$AMQP_PORT" >"$WORK/rabbit/rabbitmq.conf"
  echo '[].' >"$WORK/rabbit/enabled_plugins"
  chown -R rabbitmq "$WORK/rabbit" 2>/dev/null || true
  rabbit_start || { tail -20 "$WORK/rabbit/out.log" >&2; exit 1; }
}

# --- services -----------------------------------------------------------------------------
common_env="DATABASE_URL=$DB_URL REDIS_URL=redis://127.0.0.1:$REDIS_PORT AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f \
INTERNAL_TOKEN=chaos-internal-token JWT_SECRET=chaos-jwt-secret RUST_LOG=warn SHUTDOWN_DRAIN_SECONDS=1 \
DB_CONNECT_TIMEOUT_MS=1000"
secret=whsec_chaos_$RANDOM$RANDOM
CMD[catalog]="env $common_env HTTP_ADDR=127.0.0.1:$CATALOG_PORT $BIN/catalog serve"
CMD[cart]="env $common_env HTTP_ADDR=127.0.0.1:$CART_PORT CATALOG_URL=http://127.0.0.1:$CATALOG_PORT $BIN/cart serve"
CMD[payment-webhook]="env $common_env HTTP_ADDR=127.0.0.1:$WEBHOOK_PORT STRIPE_WEBHOOK_SECRET=$secret $BIN/payment-webhook serve"
order_env="$common_env CART_URL=http://127.0.0.1:$CART_PORT CATALOG_URL=http://127.0.0.1:$CATALOG_PORT \
STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT/ STRIPE_SECRET_KEY=sk_test_chaos ORDER_SWEEP_INTERVAL_SECONDS=5 \
ORDER_RECONCILE_AFTER_SECONDS=10 CHECKOUT_SESSION_TIMEOUT=2 SMTP_URL=smtp://127.0.0.1:$SMTP_PORT"
CMD[order]="env $order_env HTTP_ADDR=127.0.0.1:$ORDER_PORT $BIN/order serve"
CMD[worker]="env $order_env HTTP_ADDR=127.0.0.1:$WORKER_PORT $BIN/order worker"
CMD[stripe-emulator]="env HTTP_ADDR=127.0.0.1:$STRIPE_PORT STRIPE_WEBHOOK_URL=http://127.0.0.1:$WEBHOOK_PORT/webhooks/stripe \
STRIPE_WEBHOOK_SECRET=$secret WEBHOOK_RETRY_BASE_MS=200 WEBHOOK_RETRY_MAX_MS=3000 WEBHOOK_MAX_ATTEMPTS=100 RUST_LOG=warn \
$BIN/stripe-emulator serve"
CMD[smtp]="$BIN/examples/chaos_load smtp --listen 127.0.0.1:$SMTP_PORT --out $WORK/mails.csv"
declare -A PORT=([catalog]=$CATALOG_PORT [cart]=$CART_PORT [order]=$ORDER_PORT [payment-webhook]=$WEBHOOK_PORT
  [worker]=$WORKER_PORT [stripe-emulator]=$STRIPE_PORT [smtp]=$SMTP_PORT)

svc_start() {
  # shellcheck disable=SC2086 # the command line is split on purpose
  setsid ${CMD[$1]} >>"$WORK/$1.log" 2>&1 &
  PID[$1]=$!
  wait_port "${PORT[$1]}" 30 || { say "$1 did not start"; tail -20 "$WORK/$1.log" >&2; exit 1; }
}
svc_stop() { # name signal
  kill "-$2" "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" 2>/dev/null || true
}
services_up() {
  for s in catalog cart order payment-webhook; do
    # shellcheck disable=SC2086
    env $common_env "$BIN/$s" migrate >>"$WORK/migrate.log" 2>&1
  done
  # shellcheck disable=SC2086
  env $common_env "$BIN/catalog" seed --count "$PRODUCTS" >>"$WORK/migrate.log" 2>&1
  "${PSQL[@]}" <<SQL
UPDATE catalog.products SET stock_quantity = $STOCK, reserved_quantity = 0, status = 'active', deleted_at = NULL,
  price_cents = 1000 + id * 10;
CREATE TABLE public.chaos_initial_stock AS SELECT id, stock_quantity FROM catalog.products;
SQL
  for s in smtp stripe-emulator catalog cart payment-webhook order worker; do svc_start "$s"; done
}
ensure_all_up() {
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || pg_start
  port_open "$REDIS_PORT" || redis_start
  port_open "$AMQP_PORT" || rabbit_start
  for s in "${!PID[@]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null || svc_start "$s"
  done
}

# --- faults -------------------------------------------------------------------------------
FAULTS=0
fault() { # scenario round
  local victims=(catalog cart order payment-webhook worker)
  local v=${victims[$(($2 % ${#victims[@]}))]}
  case $1 in
    postgres) pg_crash; sleep 2; pg_start ;;
    redis) redis_crash; sleep 2; redis_start ;;
    rabbitmq) rabbit_crash; sleep 3; rabbit_start ;;
    sigkill) svc_stop "$v" KILL; sleep 1; svc_start "$v" ;;
    sigterm) svc_stop "$v" TERM; svc_start "$v" ;;
    *) say "unknown scenario $1"; exit 2 ;;
  esac
  FAULTS=$((FAULTS + 1))
}

# --- settling and the invariants ----------------------------------------------------------
q() { "${PSQL[@]}" -Atc "$1"; }
load_emulator() {
  curl -sf "http://127.0.0.1:$STRIPE_PORT/_emulator/payment_intents" |
    jq -r '.data[] | [.id, .status, .amount_received, (.metadata.order_id // "")] | @csv' >"$WORK/intents.csv"
  curl -sf "http://127.0.0.1:$STRIPE_PORT/_emulator/events" | jq -r '.data[] | [.id, .type] | @csv' >"$WORK/events.csv"
  "${PSQL[@]}" <<SQL
DROP TABLE IF EXISTS public.emu_intents, public.emu_events;
CREATE TABLE public.emu_intents (id text, status text, amount_received bigint, order_id text);
CREATE TABLE public.emu_events (id text, type text);
\\copy public.emu_intents FROM '$WORK/intents.csv' CSV
\\copy public.emu_events FROM '$WORK/events.csv' CSV
SQL
}
PAID_STATES="('completed','partially_refunded','refunded')"
unsettled() { # what is still moving (empty when quiet)
  load_emulator
  q "SELECT 'payments ' || count(*) FROM public.emu_intents i JOIN orders.orders o ON o.payment_intent_id = i.id
       WHERE (i.status = 'succeeded') <> (o.payment_status IN $PAID_STATES) HAVING count(*) > 0
     UNION ALL SELECT 'outbox ' || sum(n) FROM (
       SELECT count(*) n FROM catalog.outbox WHERE published_at IS NULL UNION ALL
       SELECT count(*) FROM cart.outbox WHERE published_at IS NULL UNION ALL
       SELECT count(*) FROM orders.outbox WHERE published_at IS NULL UNION ALL
       SELECT count(*) FROM payments.outbox WHERE published_at IS NULL) x HAVING sum(n) > 0
     UNION ALL SELECT 'syncs ' || count(*) FROM orders.payment_syncs HAVING count(*) > 0
     UNION ALL SELECT 'emails ' || count(*) FROM orders.email_notifications WHERE status <> 'sent' HAVING count(*) > 0" 2>/dev/null || echo "database"
  local ready
  ready=$(rabbitctl list_queues -q name messages 2>/dev/null | awk '$1 !~ /dlq$/ && $2 > 0 {n += $2} END {print n + 0}')
  ((ready == 0)) || echo "queued $ready"
}
settle() { # wait until nothing moves (deadline SETTLE_SECONDS)
  local until=$((SECONDS + SETTLE_SECONDS)) left
  while ((SECONDS < until)); do
    left=$(unsettled)
    [[ -z $left ]] && return 0
    sleep 1
  done
  say "still unsettled after ${SETTLE_SECONDS}s: $(echo "$left" | tr '\n' ' ')"
}

check() { # scenario -> one table row; returns 1 when an invariant is broken
  local s=$1 bad=0
  load_emulator
  "${PSQL[@]}" -c "DROP TABLE IF EXISTS public.chaos_keys" \
    -c "CREATE TABLE public.chaos_keys (key text, order_number text, payment_intent text, confirmed boolean)" \
    -c "\\copy public.chaos_keys FROM '$WORK/keys.csv' CSV"
  "${PSQL[@]}" -c "DROP TABLE IF EXISTS public.chaos_mails" -c "CREATE TABLE public.chaos_mails (message_id text, subject text)"
  [[ -s $WORK/mails.csv ]] && "${PSQL[@]}" -c "\\copy public.chaos_mails FROM '$WORK/mails.csv' CSV"
  local paid keys intents paidx events stock emails dup carts queues h500
  paid=$(q "SELECT count(*) FROM orders.orders WHERE status = 'paid'")
  keys=$(q "SELECT (SELECT count(*) FROM (SELECT order_id FROM orders.idempotency_keys WHERE order_id IS NOT NULL
              GROUP BY order_id HAVING count(*) > 1) a) + $(awk '/^key_conflicts/ {print $2}' "$WORK/load.txt")")
  intents=$(q "SELECT count(*) FROM (SELECT order_id FROM public.emu_intents GROUP BY order_id HAVING count(*) > 1) a")
  paidx=$(q "SELECT count(*) FROM public.emu_intents i FULL JOIN orders.orders o ON o.payment_intent_id = i.id
             WHERE coalesce(i.status = 'succeeded', false) <> coalesce(o.payment_status IN $PAID_STATES, false)")
  events=$(q "SELECT (SELECT count(*) FROM public.emu_events e LEFT JOIN payments.stripe_events s USING (id) WHERE s.id IS NULL)
            + (SELECT count(*) - count(DISTINCT id) FROM payments.stripe_events)")
  stock=$(q "WITH sold AS (SELECT i.product_id id, sum(i.quantity) n FROM orders.order_items i
                JOIN orders.orders o ON o.id = i.order_id WHERE o.status = 'paid' GROUP BY 1),
              committed AS (SELECT product_id id, sum(quantity) n FROM catalog.reservations WHERE status = 'committed' GROUP BY 1)
             SELECT count(*) FROM public.chaos_initial_stock s JOIN catalog.products p USING (id)
               LEFT JOIN sold USING (id) LEFT JOIN committed c USING (id)
             WHERE s.stock_quantity - p.stock_quantity <> coalesce(c.n, 0) OR coalesce(c.n, 0) <> coalesce(sold.n, 0)
                OR p.reserved_quantity <> 0
                OR EXISTS (SELECT 1 FROM catalog.reservations r WHERE r.product_id = p.id AND r.status = 'active')")
  emails=$(q "SELECT count(*) FROM orders.orders o WHERE o.status = 'paid' AND NOT EXISTS
              (SELECT 1 FROM public.chaos_mails m WHERE m.message_id = '<order.paid.' || o.id || '@order.shop>')")
  dup=$(q "SELECT count(*) - count(DISTINCT message_id) FROM public.chaos_mails")
  carts=0
  while read -r cart; do
    [[ -z $cart ]] && continue
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer chaos-internal-token" \
      "http://127.0.0.1:$CART_PORT/internal/v1/carts/$cart")
    [[ $code == 404 ]] || carts=$((carts + 1))
  done < <(q "SELECT cart_id FROM orders.orders WHERE status = 'paid' AND cart_id IS NOT NULL")
  queues=$(q "SELECT (SELECT count(*) FROM catalog.outbox WHERE published_at IS NULL) + (SELECT count(*) FROM cart.outbox WHERE published_at IS NULL)
            + (SELECT count(*) FROM orders.outbox WHERE published_at IS NULL) + (SELECT count(*) FROM payments.outbox WHERE published_at IS NULL)")
  queues=$((queues + $(rabbitctl list_queues -q name messages 2>/dev/null | awk '$1 ~ /dlq$/ {n += $2} END {print n + 0}')))
  h500=$(awk '/^status_500/ {print $2}' "$WORK/load.txt")
  local purchases checkouts s503 noans
  purchases=$(awk '/^purchases/ {print $2}' "$WORK/load.txt")
  checkouts=$(awk '/^checkouts/ {print $2}' "$WORK/load.txt")
  s503=$(awk '/^status_503/ {print $2}' "$WORK/load.txt")
  noans=$(awk '/^no_answer/ {print $2}' "$WORK/load.txt")
  for v in "$keys" "$intents" "$paidx" "$events" "$stock" "$emails" "$carts" "$queues" "$h500"; do
    [[ $v == 0 ]] || bad=1
  done
  printf '%-9s %6s %6s %5s %6s | %4s %7s %4s %6s %5s %6s %5s %6s %7s | %5s %6s %4s\n' "$s" "$purchases" "$checkouts" \
    "$paid" "$FAULTS" "$keys" "$intents" "$paidx" "$events" "$stock" "$emails" "$carts" "$queues" "$h500" "$s503" "$noans" "$dup" \
    | tee -a "$RESULTS"
  return $bad
}

RESULTS=$WORK/results.txt
header=$(printf '%-9s %6s %6s %5s %6s | %4s %7s %4s %6s %5s %6s %5s %6s %7s | %5s %6s %4s' scenario buys orders paid faults \
  keys intents paid events stock emails carts queues http500 503s noansw dups)
failed=0
for scenario in $SCENARIOS; do
  say "scenario $scenario: fresh servers and services"
  for name in "${!PID[@]}"; do kill -9 "${PID[$name]}" 2>/dev/null; done
  PID=()
  [[ -n $redis_pid ]] && redis_crash
  rabbit_crash
  [[ -d $WORK/pg/data ]] && pg_crash
  rm -rf "$WORK/pg" "$WORK/redis" "$WORK/rabbit" "$WORK/mails.csv" "$WORK"/*.log
  FAULTS=0
  servers_up
  services_up
  say "scenario $scenario: ${LOAD_SECONDS}s of purchases, a fault every ${FAULT_EVERY}s"
  rm -f "$WORK/stop"
  "$BIN/examples/chaos_load" buy --cart-url "http://127.0.0.1:$CART_PORT" --order-url "http://127.0.0.1:$ORDER_PORT" \
    --stripe-url "http://127.0.0.1:$STRIPE_PORT" --stripe-key sk_test_chaos --products "$PRODUCTS" \
    --buyers "$BUYERS" --stop-file "$WORK/stop" --keys-csv "$WORK/keys.csv" --run "$scenario$$" \
    >"$WORK/load.txt" 2>"$WORK/load.err" &
  load=$!
  end=$((SECONDS + LOAD_SECONDS))
  round=0
  while ((SECONDS + FAULT_EVERY < end)); do
    sleep "$FAULT_EVERY"
    fault "$scenario" "$round"
    round=$((round + 1))
  done
  while ((SECONDS < end)); do sleep 1; done
  touch "$WORK/stop"
  wait "$load"
  ensure_all_up
  say "scenario $scenario: settling"
  settle
  # Time moves on: unpaid checkouts expire (the order sweeper releases their stock), then
  # what carts still hold lapses (catalog's sweeper).
  q "UPDATE orders.orders SET expires_at = now() - interval '1 second' WHERE status = 'pending_payment'" >/dev/null
  settle
  q "UPDATE catalog.reservations SET expires_at = now() - interval '1 second' WHERE status = 'active'" >/dev/null
  settle
  until_quiet=$((SECONDS + 30))
  while ((SECONDS < until_quiet)) && [[ $(q "SELECT count(*) FROM catalog.reservations WHERE status = 'active'") != 0 ]]; do
    sleep 1
  done
  [[ $scenario == "${SCENARIOS%% *}" ]] && { echo; echo "$header"; } | tee -a "$RESULTS"
  check "$scenario" || { failed=1; KEEP_WORK=${KEEP_WORK:-1}; say "scenario $scenario broke an invariant: logs in $WORK"; }
done
echo
if ((failed)); then
  say "FAILED: an invariant was broken (0 expected in every column between the bars)"
  exit 1
fi
say "all scenarios green"
