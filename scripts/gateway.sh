#!/usr/bin/env bash
# The local NGINX gateway (deploy/nginx/): routes like the Kubernetes Ingresses.
#
#   scripts/gateway.sh render DIR   write DIR/nginx.conf and DIR/gateway.conf
#   scripts/gateway.sh run          render into a run directory and run NGINX in the
#                                   foreground (make dev); SIGTERM/SIGINT stop it
#   scripts/gateway.sh nginx        print the nginx binary (installing it when missing)
#
# Environment (defaults are make dev's ports, ARCHITECTURE.md §6):
#   GATEWAY_LISTEN        8080 (a port, or addr:port)
#   CATALOG_ADDR          127.0.0.1:8081     CART_ADDR             127.0.0.1:8082
#   ORDER_ADDR            127.0.0.1:8083     PAYMENT_WEBHOOK_ADDR  127.0.0.1:8084
#   GATEWAY_ACCESS_LOG    "/dev/stdout gateway" (file and log format), or "off"
#   STOREFRONT_ROOT       storefront/ (the static storefront served at /)
#   STOREFRONT_STRIPE_URL http://localhost:12111 (the Stripe API base the browser calls)
#   STOREFRONT_PUBLISHABLE_KEY  pk_test_dev (served in /storefront-config.json)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GATEWAY_LISTEN=${GATEWAY_LISTEN:-8080}
export CATALOG_ADDR=${CATALOG_ADDR:-127.0.0.1:8081}
export CART_ADDR=${CART_ADDR:-127.0.0.1:8082}
export ORDER_ADDR=${ORDER_ADDR:-127.0.0.1:8083}
export PAYMENT_WEBHOOK_ADDR=${PAYMENT_WEBHOOK_ADDR:-127.0.0.1:8084}
export GATEWAY_ACCESS_LOG=${GATEWAY_ACCESS_LOG:-/dev/stdout gateway}
STOREFRONT_ROOT=${STOREFRONT_ROOT:-$PWD/storefront}
export STOREFRONT_ROOT
export STOREFRONT_STRIPE_URL=${STOREFRONT_STRIPE_URL:-http://localhost:12111}
export STOREFRONT_PUBLISHABLE_KEY=${STOREFRONT_PUBLISHABLE_KEY:-pk_test_dev}
# Only these are substituted: NGINX's own $variables stay as they are.
# shellcheck disable=SC2016 # envsubst takes the literal names
readonly VARS='${GATEWAY_LISTEN} ${CATALOG_ADDR} ${CART_ADDR} ${ORDER_ADDR} ${PAYMENT_WEBHOOK_ADDR} ${GATEWAY_RUN_DIR} ${GATEWAY_ACCESS_LOG} ${GATEWAY_DOCS_DIR} ${STOREFRONT_ROOT} ${STOREFRONT_STRIPE_URL} ${STOREFRONT_PUBLISHABLE_KEY}'

fail() {
  printf 'gateway: %s\n' "$*" >&2
  exit 1
}

# apt_install PKG...: one apt at a time (make dev and make test may both get here).
apt_install() {
  command -v apt-get >/dev/null || fail "$* not installed (and no apt-get to install it)"
  (
    flock -w 600 7 || fail "another install held the apt lock for 10 minutes"
    printf 'gateway: installing %s from apt\n' "$*" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
  ) 7>"${TMPDIR:-/tmp}/commerce-gateway-apt.lock"
}

find_nginx() {
  command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; }
}

nginx_bin() {
  local bin
  bin=$(find_nginx) || true
  if [[ -z $bin ]]; then
    apt_install nginx-light
    bin=$(find_nginx) || fail "nginx still not found after installing nginx-light"
  fi
  printf '%s\n' "$bin"
}

render() {
  local dir=$1
  command -v envsubst >/dev/null || apt_install gettext-base
  mkdir -p "$dir/tmp"
  # NGINX workers run as an unprivileged user when the master is root: they must
  # reach the temp directories.
  chmod 755 "$dir" "$dir/tmp"
  export GATEWAY_RUN_DIR
  GATEWAY_RUN_DIR=$(cd "$dir" && pwd)
  # /docs: swagger-ui-dist (pinned, scripts/install-api-tools.sh) with deploy/docs/ over it.
  export GATEWAY_DOCS_DIR=$GATEWAY_RUN_DIR/docs
  scripts/install-api-tools.sh --ui
  rm -rf "$GATEWAY_DOCS_DIR"
  cp -r .tools/swagger-ui "$GATEWAY_DOCS_DIR"
  cp deploy/docs/* "$GATEWAY_DOCS_DIR/"
  chmod -R a+rX "$GATEWAY_DOCS_DIR"
  envsubst "$VARS" <deploy/nginx/gateway.conf.template >"$dir/gateway.conf"
  envsubst "$VARS" <deploy/nginx/nginx.conf.template >"$dir/nginx.conf"
}

case ${1:-} in
  render)
    [[ -n ${2:-} ]] || fail "usage: scripts/gateway.sh render DIR"
    render "$2"
    ;;
  nginx)
    nginx_bin
    ;;
  run)
    bin=$(nginx_bin)
    dir=${GATEWAY_RUN_DIR:-${TMPDIR:-/tmp}/commerce-gateway-$UID-${GATEWAY_LISTEN//[^0-9]/_}}
    render "$dir"
    "$bin" -e stderr -p "$dir" -c "$dir/nginx.conf" -t -q || fail "the rendered config does not load (see above)"
    # exec: NGINX gets the signals (TERM/INT: fast shutdown, QUIT: graceful).
    exec "$bin" -e stderr -p "$dir" -c "$dir/nginx.conf"
    ;;
  *)
    sed -n '2,16p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
