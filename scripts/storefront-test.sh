#!/usr/bin/env bash
# The storefront in a real browser (`make test` runs it after the README purchase): starts
# the whole stack on its own ports (scripts/lib/stack.sh, STACK_PORT_BASE=18500), serves
# storefront/ through that gateway, and drives headless Chromium (Debian's chromium with
# playwright-core from e2e/package-lock.json) through browse, search, product, cart,
# checkout, a 4242 card payment and a 3-D Secure payment (e2e/storefront.test.mjs).
# Screenshots of every step: target/storefront/NN-step.png (their names are printed).
# Installs what is missing: chromium (apt), node and npm (apt), e2e/node_modules (npm ci).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1mstorefront:\033[0m %s\n' "$*" >&2; }
fail() { printf 'storefront: FAILED: %s\n' "$*" >&2; exit 1; }

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SHOTS=${SHOTS:-target/storefront}

# apt_install PKG...: one apt at a time (the gateway script may install alongside).
apt_install() {
  command -v apt-get >/dev/null || fail "$* not installed (and no apt-get to install it)"
  say "installing $* from apt"
  (
    flock -w 600 7 || fail "another install held the apt lock for 10 minutes"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
  ) 7>"${TMPDIR:-/tmp}/commerce-gateway-apt.lock"
}

[[ -x $CHROMIUM ]] || apt_install chromium
[[ -x $CHROMIUM ]] || fail "no browser at $CHROMIUM"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
# playwright-core, exactly as locked; again only when the lock changed.
if ! cmp -s e2e/package-lock.json e2e/node_modules/.package-lock.json; then
  say "npm ci in e2e/"
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# shellcheck source=scripts/lib/stack.sh
source scripts/lib/stack.sh
STACK_PORT_BASE=${STACK_PORT_BASE:-18500} stack_start
say "stack up: gateway $STACK_GW, Stripe emulator $STACK_STRIPE"
rm -rf "$SHOTS"
started=$SECONDS
STOREFRONT_URL=$STACK_GW SHOTS=$SHOTS CHROMIUM=$CHROMIUM node e2e/storefront.test.mjs ||
  fail "see above; the stack's logs: KEEP_STACK=1 keeps them"
say "passed in $((SECONDS - started)) s (browser part)"
