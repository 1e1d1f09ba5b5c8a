#!/usr/bin/env bash
# The OpenAPI contract checked from outside (docs/api-contract.md): starts a whole purchase
# stack (scripts/lib/stack.sh, ports from STACK_PORT_BASE, default 18400) and runs schemathesis
# on each service's own document (GET /openapi.json) against that service: every operation,
# public, admin and internal, with bounded examples, plus the stateful phase along the
# documents' links; then the shop's public API as one merged document through the gateway,
# whose stateful phase buys something (cart -> line -> checkout -> order read). Fails on a 5xx,
# a status, header, content type or body the document does not allow. `make test` runs it
# after the demo.
#
#   scripts/contract.sh                 all four services, then the merged public document
#   scripts/contract.sh catalog cart    some of them
#   scripts/contract.sh public          the merged public document through the gateway only
#   CONTRACT_EXAMPLES=50 scripts/contract.sh   more examples per operation (default 20)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-api-tools.sh
readonly ST=$PWD/.tools/api-venv/bin/schemathesis
readonly PY=$PWD/.tools/api-venv/bin/python
readonly EXAMPLES=${CONTRACT_EXAMPLES:-20}
# The merged document runs the stateful phase only: more scenarios, each a short walk.
readonly PUBLIC_EXAMPLES=${CONTRACT_PUBLIC_EXAMPLES:-200}
# A fixed seed: a failure reproduces; CONTRACT_SEED=random explores.
readonly SEED=${CONTRACT_SEED:-19}
services=("$@")
((${#services[@]})) || services=(catalog cart order payment-webhook public)

# shellcheck source=scripts/lib/stack.sh
source scripts/lib/stack.sh
STACK_PORT_BASE=${STACK_PORT_BASE:-18400} stack_start >&2
base=${STACK_PORT_BASE:-18400}
CONTRACT_ADMIN_TOKEN=$(cargo run -q -p platform --bin dev-token -- --role admin --sub contract-admin)
CONTRACT_INTERNAL_TOKEN=dev-internal-token
export CONTRACT_ADMIN_TOKEN CONTRACT_INTERNAL_TOKEN

port_of() {
  case $1 in
    catalog) echo $((base + 1)) ;;
    cart) echo $((base + 2)) ;;
    order) echo $((base + 3)) ;;
    payment-webhook) echo $((base + 4)) ;;
    *) return 1 ;;
  esac
}

reports=${CONTRACT_REPORTS:-$STACK_WORK/contract}
mkdir -p "$reports"

# check NAME DOCUMENT URL [OPTION...]: schemathesis on one document (settings: $CONFIG, else
# schemathesis.toml); its report in $reports/NAME.txt, JUnit next to it. Fails on any finding.
check() {
  local name=$1 doc=$2 url=$3
  shift 3
  for attempt in 1 2; do
    if "$ST" --no-color --config-file "${CONFIG:-scripts/contract/schemathesis.toml}" run "$doc" --url "$url" \
      --seed "$SEED" \
      --report junit --report-junit-path "$reports/$name.xml" "$@" >"$reports/$name.txt" 2>&1; then
      tail -n 12 "$reports/$name.txt" >&2
      return 0
    fi
    # schemathesis' own generator sometimes stops with an internal "Runtime Error" (hypothesis
    # flakiness) and no finding: run once more then; a finding fails at once.
    grep -qE 'unique failure|^- ST[0-9]' "$reports/$name.txt" && break
    grep -q 'Runtime Error' "$reports/$name.txt" || break
    ((attempt == 1)) && echo "contract: $name: schemathesis internal error, no finding: once more" >&2
  done
  cat "$reports/$name.txt" >&2
  return 1
}

# The shop's public API through the gateway, as one document (scripts/contract/public_api.py):
# the stateful phase follows cart -> add a product -> checkout -> read the order, and the run
# must have really bought something (a 201 checkout and a 200 order read in its HAR).
check_public() {
  "$PY" scripts/contract/public_api.py "$STACK_GW" "$reports/public.json" >&2 || return 1
  cat scripts/contract/schemathesis.toml scripts/contract/public-stateful.toml >"$reports/public.toml"
  echo "contract: public ($STACK_GW, the merged document, stateful phase)" >&2
  CONFIG=$reports/public.toml check public "$reports/public.json" "$STACK_GW" --phases stateful --workers 1 --max-examples "$PUBLIC_EXAMPLES" \
    --report har --report-har-path "$reports/public.har" || return 1
  "$PY" scripts/contract/chain_walked.py "$reports/public.har"
}

failed=()
for s in "${services[@]}"; do
  if [[ $s == public ]]; then
    check_public || failed+=(public)
    continue
  fi
  port=$(port_of "$s") || {
    echo "contract: unknown service $s" >&2
    exit 2
  }
  url="http://127.0.0.1:$port"
  echo "contract: $s ($url/openapi.json, $EXAMPLES examples per operation)" >&2
  check "$s" "$url/openapi.json" "$url" --workers 2 --max-examples "$EXAMPLES" || failed+=("$s")
done
if ((${#failed[@]})); then
  echo "contract: FAILED for ${failed[*]} (reports in $reports; KEEP_STACK=1 keeps them)" >&2
  exit 1
fi
echo "contract: ${services[*]}: every operation conforms to its document" >&2
