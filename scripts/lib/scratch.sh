# shellcheck shell=bash
# Removing what a run left on the shared local servers (sourced by scripts/demo.sh and
# scripts/bench/*.sh): its Redis keys, and its consumer queues (with .retry/.dlq) and exchange.

# scratch_drop_redis PATTERN: deletes the keys matching PATTERN (e.g. "bench:123:*").
scratch_drop_redis() {
  redis-cli --scan --pattern "$1" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
}

# scratch_drop_broker QUEUE_PREFIX [EXCHANGE]: deletes the queues whose names start with
# QUEUE_PREFIX, then EXCHANGE, on the local RabbitMQ (nothing when rabbitmqctl is missing).
scratch_drop_broker() {
  command -v rabbitmqctl >/dev/null || return 0
  local prefix=$1 exchange=${2:-} q queues
  # The list is read first: rabbitmqctl reads stdin, so inside a `| while read` it would eat it.
  mapfile -t queues < <(timeout 30 rabbitmqctl -q list_queues name 2>/dev/null </dev/null | awk -v p="$prefix" 'index($0, p) == 1')
  for q in "${queues[@]}"; do
    timeout 10 rabbitmqctl -q delete_queue "$q" >/dev/null 2>&1 </dev/null || true
  done
  if [[ -n $exchange ]]; then
    # No management plugin needed: delete the exchange through the broker's own shell.
    timeout 10 rabbitmqctl eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$exchange\">>), false, <<\"scratch\">>)." \
      >/dev/null 2>&1 </dev/null || true
  fi
}
