#!/usr/bin/env bash
# SC2016: the single-quoted 'bash -c' bodies expand their own "$1" "$2".
# SC2012: ls lists PostgreSQL version directories (plain numbers).
# shellcheck disable=SC2016,SC2012
# Make sure the servers the services and the tests need are reachable:
#
#   PostgreSQL  127.0.0.1:5432  user postgres, trust auth, database "commerce"
#   Redis       127.0.0.1:6379
#   RabbitMQ    127.0.0.1:5672  guest/guest
#
# Addresses are fixed on purpose (they are the defaults of ARCHITECTURE.md §6);
# PGHOST/PGPORT and friends are ignored.
#
# For each server: probe it; when it is down but installed, start it without
# systemd; when it is not installed and apt-get exists, install it (Debian),
# then start it. Idempotent, safe to run from several shells at once (flock),
# and fast (well under a second) when everything is already up.
#
# Prints one line per server, e.g. "postgres: up", "redis: started".
# Exits non-zero with a line naming the server when one cannot be brought up.
set -euo pipefail

readonly PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres PG_DB=commerce
readonly REDIS_HOST=127.0.0.1 REDIS_PORT=6379
readonly AMQP_HOST=127.0.0.1 AMQP_PORT=5672

# Deadlines (seconds) for a server to come up after being started.
readonly PG_DEADLINE=60 REDIS_DEADLINE=20 RABBIT_DEADLINE=120
readonly LOCK_FILE=/tmp/commerce-ensure-services.lock LOCK_DEADLINE=900

# Never pick up a password or service file meant for something else; never prompt.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS
export PGCONNECT_TIMEOUT=5

note() { printf '%s\n' "$*"; }
fail() {
  printf 'ensure-services: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    return 1
  fi
}
can_root() { [[ $EUID -eq 0 ]] || have sudo; }

# poll DEADLINE CMD...: run CMD until it succeeds or DEADLINE seconds pass.
poll() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}

# tcp_open HOST PORT: can we open a TCP connection? (no bytes are sent)
tcp_open() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# --- one lock for the whole run -----------------------------------------------
# fd 9 holds the lock: every command that may leave a daemon behind runs with
# "9<&-", or the daemon would inherit the lock and hold it for its lifetime.
# Opened read-only and created with mode 666 so that root and other users can
# share it (no O_CREAT on an existing file: fs.protected_regular allows that).
if [[ ! -e $LOCK_FILE ]]; then
  (umask 000 && : >>"$LOCK_FILE") 2>/dev/null || true
fi
exec 9<"$LOCK_FILE" || fail "cannot open lock file $LOCK_FILE"
flock -w "$LOCK_DEADLINE" 9 || fail "another ensure-services.sh held $LOCK_FILE for over ${LOCK_DEADLINE}s"

# --- apt ----------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  have apt-get || return 1
  can_root || fail "$1: not installed, and installing it needs root or sudo"
  if ((APT_UPDATED == 0)); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 9<&- ||
      fail "$1: apt-get update failed"
    APT_UPDATED=1
  fi
  shift
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "$@" >/dev/null 9<&- || fail "apt-get install $* failed"
}

# --- PostgreSQL -----------------------------------------------------------------
pg_ready() {
  if have pg_isready; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}
pg_installed() {
  have pg_ctlcluster && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }
psql_q() { psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -At "$@"; }

pg_start() {
  local ver
  can_root || fail "postgres: down on $PG_HOST:$PG_PORT; starting it needs root or sudo"
  ver=$(pg_version)
  if [[ -z $ver ]]; then
    # postgresql-common may be configured not to create the main cluster.
    ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
    as_root pg_createcluster "$ver" main >/dev/null 9<&- || fail "postgres: pg_createcluster $ver main failed"
  fi
  # pg_ctlcluster fails when the cluster is already starting: the poll decides.
  PG_LOG=/tmp/commerce-postgres-start.$EUID.log
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >"$PG_LOG" 2>&1 9<&- || true
}

# Trust local and loopback connections (dev machines only). Rules go first in
# pg_hba.conf, once (a marker line makes it idempotent), then the server reloads.
readonly HBA_MARKER='# commerce dev: added by scripts/ensure-services.sh'
pg_trust_loopback() {
  local ver hba tmp
  ver=$(pg_version)
  [[ -n $ver ]] || return 1
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  as_root test -f "$hba" || return 1
  if ! as_root grep -qF "$HBA_MARKER" "$hba"; then
    tmp=$(mktemp)
    {
      printf '%s\n' "$HBA_MARKER" \
        'local   all  postgres                 trust' \
        'host    all  postgres  127.0.0.1/32   trust' \
        'host    all  postgres  ::1/128        trust' \
        '# end of commerce dev block'
      as_root cat "$hba"
    } >"$tmp"
    # tee keeps the file's owner and mode.
    as_root tee "$hba" <"$tmp" >/dev/null
    rm -f "$tmp"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1
}

pg_can_login() { psql_q -c 'select 1' >/dev/null 2>&1; }

# Check we can log in as postgres without a password and that "commerce" exists.
pg_ensure_db() {
  local fresh=$1 out
  if [[ $fresh == 1 ]] && pg_installed; then
    pg_trust_loopback || fail "postgres: could not set trust auth in pg_hba.conf"
    poll 10 pg_can_login || true
    PG_EXTRA+=" (trust auth set in pg_hba.conf)"
  fi
  if ! out=$(psql_q -c 'select 1' 2>&1); then
    if grep -qiE 'authentication failed|no pg_hba.conf entry|no password supplied|password authentication' <<<"$out" &&
      pg_installed && can_root; then
      pg_trust_loopback || fail "postgres: could not set trust auth in pg_hba.conf"
      poll 10 pg_can_login || fail "postgres: cannot log in as $PG_USER on $PG_HOST:$PG_PORT after setting trust auth"
      PG_EXTRA+=" (trust auth set in pg_hba.conf)"
    else
      fail "postgres: cannot log in as $PG_USER on $PG_HOST:$PG_PORT: ${out//$'\n'/ }"
    fi
  fi
  if [[ -z $(psql_q -c "select 1 from pg_database where datname = '$PG_DB'") ]]; then
    # Someone else (a test, another tool) may create it at the same moment.
    if createdb -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" 2>/dev/null ||
      [[ -n $(psql_q -c "select 1 from pg_database where datname = '$PG_DB'") ]]; then
      PG_EXTRA+=" (database $PG_DB created)"
    else
      fail "postgres: could not create database $PG_DB"
    fi
  fi
}

# --- Redis ----------------------------------------------------------------------
redis_ready() {
  local reply
  if have redis-cli; then
    reply=$(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) || return 1
  else
    reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && IFS= read -r l <&3 && printf %s "$l"' \
      _ "$REDIS_HOST" "$REDIS_PORT" 2>/dev/null) || return 1
  fi
  [[ $reply == PONG* || $reply == +PONG* ]]
}

redis_start() {
  # A private, writable working dir: works as root or as any user on a fresh box.
  local dir=/tmp/commerce-redis-$EUID
  mkdir -p "$dir"
  local bind=(127.0.0.1 -::1)
  # "-::1" (bind it if it exists) needs Redis >= 7: older ones get IPv4 only.
  [[ $(redis-server --version) =~ v=([0-9]+) ]] && ((BASH_REMATCH[1] >= 7)) || bind=(127.0.0.1)
  REDIS_LOG=$dir/redis.log
  # With --daemonize the parent exits 0 before binding: the poll decides.
  redis-server --daemonize yes --bind "${bind[@]}" --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$REDIS_LOG" --pidfile "$dir/redis.pid" >/dev/null 2>&1 9<&- ||
    fail "redis: redis-server failed to start (see $REDIS_LOG)"
}

# --- RabbitMQ -------------------------------------------------------------------
rabbit_node_running() { timeout 20 rabbitmq-diagnostics -q check_running >/dev/null 2>&1; }

# A full AMQP protocol header exchange: the broker answers with Connection.Start
# (frame type 1). Only a fallback, because the broker logs a warning for it.
amqp_handshake() {
  LC_ALL=C timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3
    IFS= read -r -N 1 -t 2 b <&3 && [[ $b == $'"'"'\x01'"'"' ]]' _ "$AMQP_HOST" "$AMQP_PORT" 2>/dev/null
}

rabbit_ready() {
  tcp_open "$AMQP_HOST" "$AMQP_PORT" || return 1
  have rabbitmq-diagnostics || return 0
  rabbit_node_running && return 0
  # The port is open but the local CLI cannot confirm (booting, another user's
  # Erlang cookie, a broker in a container): ask the broker itself.
  amqp_handshake
}
# After we started the node ourselves, wait until it says it is fully booted.
rabbit_booted() {
  tcp_open "$AMQP_HOST" "$AMQP_PORT" || return 1
  if have rabbitmq-diagnostics; then rabbit_node_running; fi
}

rabbit_start() {
  can_root || fail "rabbitmq: down on $AMQP_HOST:$AMQP_PORT; starting it needs root or sudo"
  RABBIT_LOG=/tmp/commerce-rabbitmq-start.$EUID.log
  # Fails when the node is already booting: the poll decides.
  as_root env RABBITMQ_NODE_IP_ADDRESS="$AMQP_HOST" rabbitmq-server -detached >"$RABBIT_LOG" 2>&1 9<&- || true
}

# --- main -----------------------------------------------------------------------
PG_STATE=up REDIS_STATE=up RABBIT_STATE=up
PG_EXTRA="" PG_LOG="" REDIS_LOG="" RABBIT_LOG=""

pg_ready || PG_STATE=down
redis_ready || REDIS_STATE=down
rabbit_ready || RABBIT_STATE=down

# Install what is missing, in one apt-get run.
missing=()
if [[ $PG_STATE == down ]] && ! pg_installed; then missing+=(postgresql); fi
if [[ $REDIS_STATE == down ]] && ! have redis-server; then missing+=(redis-server); fi
if [[ $RABBIT_STATE == down ]] && ! have rabbitmq-server; then missing+=(rabbitmq-server); fi
if ((${#missing[@]} > 0)); then
  have apt-get || fail "${missing[*]}: not reachable and not installed (no apt-get here: install it, or run 'docker compose up -d postgres redis rabbitmq')"
  apt_install "${missing[0]}" "${missing[@]}"
  for p in "${missing[@]}"; do
    case $p in
      postgresql) PG_STATE=installed ;;
      redis-server) REDIS_STATE=installed ;;
      rabbitmq-server) RABBIT_STATE=installed ;;
    esac
  done
fi

# Start what is down, slowest first, then wait for all of them. A package's
# post-install script may already have started its server: probe again first.
if [[ $RABBIT_STATE != up ]] && ! rabbit_ready; then rabbit_start; fi
if [[ $REDIS_STATE != up ]] && ! redis_ready; then redis_start; fi
if [[ $PG_STATE != up ]] && ! pg_ready; then pg_start; fi

if [[ $PG_STATE != up ]]; then
  poll "$PG_DEADLINE" pg_ready ||
    fail "postgres: not accepting connections on $PG_HOST:$PG_PORT after ${PG_DEADLINE}s (see /var/log/postgresql/${PG_LOG:+ and $PG_LOG})"
fi
if [[ $REDIS_STATE != up ]]; then
  poll "$REDIS_DEADLINE" redis_ready ||
    fail "redis: no PONG from $REDIS_HOST:$REDIS_PORT after ${REDIS_DEADLINE}s${REDIS_LOG:+ (see $REDIS_LOG)}"
fi
if [[ $RABBIT_STATE != up ]]; then
  poll "$RABBIT_DEADLINE" rabbit_booted ||
    fail "rabbitmq: not running on $AMQP_HOST:$AMQP_PORT after ${RABBIT_DEADLINE}s (see /var/log/rabbitmq/${RABBIT_LOG:+ and $RABBIT_LOG})"
fi

fresh_pg=0
[[ $PG_STATE == installed ]] && fresh_pg=1
have psql || fail "postgres: psql not found (install postgresql-client)"
pg_ensure_db "$fresh_pg"

label() {
  case $1 in
    up) echo up ;;
    down) echo started ;;
    installed) echo "installed and started" ;;
  esac
}
note "postgres: $(label "$PG_STATE")$PG_EXTRA"
note "redis: $(label "$REDIS_STATE")"
note "rabbitmq: $(label "$RABBIT_STATE")"
