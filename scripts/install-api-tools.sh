#!/usr/bin/env bash
# Install the OpenAPI tools into the project-local .tools/ (git-ignored), pinned:
#
#   .tools/api-venv/bin/schemathesis   schemathesis (PyPI), the contract fuzzer of scripts/contract.sh
#   .tools/swagger-ui/                 swagger-ui-dist (npm), the gateway's /docs page
#
#   scripts/install-api-tools.sh        both
#   scripts/install-api-tools.sh --ui   only swagger-ui-dist (scripts/gateway.sh, a few seconds)
#
# Idempotent and fast when done: a stamp file records the pinned set; a changed pin reinstalls.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TOOLS=$PWD/.tools
readonly SCHEMATHESIS=schemathesis==4.32.5
readonly SWAGGER_UI=swagger-ui-dist@5.35.0
readonly STAMP=$TOOLS/.api-stamp
readonly WANT="$SCHEMATHESIS $SWAGGER_UI"
readonly UI_STAMP=$TOOLS/.ui-stamp

say() { printf 'install-api-tools: %s\n' "$*" >&2; }

mkdir -p "$TOOLS"
exec 9>"$TOOLS/.api-lock"
flock -w 600 9 || {
  say "another install held $TOOLS/.api-lock for 10 minutes"
  exit 1
}
install_ui() {
  [[ -f $UI_STAMP && $(cat "$UI_STAMP") == "$SWAGGER_UI" && -f $TOOLS/swagger-ui/swagger-ui-bundle.js ]] && return 0
  command -v npm >/dev/null || {
    say "npm not found: installing it from apt"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >&2
  }
  say "npm pack $SWAGGER_UI"
  local dl
  dl=$(mktemp -d)
  (cd "$dl" && npm pack --silent "$SWAGGER_UI" >/dev/null)
  rm -rf "$TOOLS/swagger-ui"
  mkdir -p "$TOOLS/swagger-ui"
  tar -xzf "$dl"/swagger-ui-dist-*.tgz -C "$TOOLS/swagger-ui" --strip-components=1 package
  rm -rf "$dl"
  printf '%s' "$SWAGGER_UI" >"$UI_STAMP"
}

install_ui
[[ ${1:-} == --ui ]] && exit 0
if [[ -f $STAMP && $(cat "$STAMP") == "$WANT" && -x $TOOLS/api-venv/bin/schemathesis ]] &&
  [[ $(head -n 1 "$TOOLS/api-venv/bin/schemathesis") == "#!$TOOLS/api-venv/bin/python"* ]]; then
  exit 0
fi

command -v python3 >/dev/null || {
  say "python3 not found (apt-get install python3 python3-venv)"
  exit 1
}
rm -rf "$TOOLS/api-venv"
if ! python3 -m venv "$TOOLS/api-venv" >/dev/null 2>&1; then
  say "python3 -m venv failed: installing python3-venv from apt"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >&2
  rm -rf "$TOOLS/api-venv"
  python3 -m venv "$TOOLS/api-venv"
fi
say "pip install $SCHEMATHESIS"
"$TOOLS/api-venv/bin/pip" --disable-pip-version-check --quiet install "$SCHEMATHESIS" >&2
printf '%s' "$WANT" >"$STAMP"
say "tools ready in $TOOLS"
