# shellcheck shell=bash
# Scratch state on the shared local servers (sourced by scripts/lib/stack.sh and
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
  [[ -z $exchange ]] || scratch_drop_exchange "$exchange"
}

# scratch_drop_exchange NAME: deletes exchange NAME on the local RabbitMQ (nothing when
# rabbitmqctl is missing). No management plugin needed: it goes through the broker's own shell.
scratch_drop_exchange() {
  command -v rabbitmqctl >/dev/null || return 0
  timeout 10 rabbitmqctl eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$1\">>), false, <<\"scratch\">>)." \
    >/dev/null 2>&1 </dev/null || true
}

# scratch_fresh_db NAME: (re)creates database NAME on the local PostgreSQL.
scratch_fresh_db() {
  psql -X -q -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -d postgres \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
}

# scratch_drop_db NAME: drops database NAME (its sessions too); quiet when it is gone.
scratch_drop_db() {
  psql -X -q -w -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}
