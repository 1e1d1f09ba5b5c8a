#!/usr/bin/env bash
# Deployment checks (`make test` runs them first; `make deploy-check` alone):
#
#   hadolint        Dockerfile.service
#   compose         docker-compose.yml against the Compose specification (schema), and
#                   its wiring (deploy/checks/compose_test.py), also with the
#                   `observability` profile
#   otel            deploy/otel/collector.yaml: pipelines name only defined components
#                   (deploy/checks/otel_test.py); promtool check config on the profile's
#                   Prometheus config
#   yamllint        chart values and metadata, deploy/k8s/, deploy/otel/, deploy/observability/,
#                   docker-compose.yml (.yamllint)
#   helm lint       --strict, every application chart, default and production values
#   helm template   the same renders (and one with every optional part off), validated
#                   with kubernetes-validate against the Kubernetes schemas of each of
#                   K8S_VERSIONS (--strict; any WARN fails): the oldest release the charts
#                   support (1.30: the preStop sleep action), a current one, the newest bundled;
#                   ServiceMonitor (a CRD) is checked by deploy/checks/manifests.py
#   validator       a broken manifest really is rejected (guards the check itself)
#   routes          gateway, Ingresses and docs/deploy.md name the same prefixes
#   gateway         requests through NGINX with deploy/nginx/ reach the right service
#
# Tools are pinned and installed once into .tools/ (scripts/install-deploy-tools.sh).
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

K8S_VERSIONS=${K8S_VERSIONS:-1.30.0 1.33.0 1.37.0}

scripts/install-deploy-tools.sh
eval "$(scripts/install-deploy-tools.sh --env)"
PY=.tools/venv/bin/python

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

# check NAME CMD...: run CMD quietly; on failure show its output.
check() {
  local name=$1
  shift
  if "$@" >"$out/log" 2>&1; then
    passed=$((passed + 1))
    printf '  PASS %s\n' "$name"
  else
    failed=$((failed + 1))
    printf '  FAIL %s\n' "$name"
    sed 's/^/       /' "$out/log"
  fi
}

# k8s_validate VERSION FILE...: kubernetes-validate exits 0 on an unknown kind or
# apiVersion (only a WARN line), so any WARN fails here.
k8s_validate() {
  local version=$1 log
  shift
  log=$(kubernetes-validate -k "$version" --strict --quiet "$@" 2>&1) || {
    printf '%s\n' "$log"
    return 1
  }
  printf '%s\n' "$log"
  ! grep -qE 'WARN|ERROR|FAIL' <<<"$log"
}

# render OUT RELEASE CHART [ARGS...]: helm template into OUT.
render() {
  local file=$1
  shift
  helm template "$@" --namespace commerce >"$file"
}

MINIMAL=api.autoscaling.enabled=false,api.pdb.enabled=false,ingress.enabled=false,networkPolicy.enabled=false
MINIMAL+=,migrations.enabled=false,serviceAccount.create=false,worker.autoscaling.enabled=false,worker.pdb.enabled=false

# The guards in helm/common fail the render, with a message naming the value.
refusals() {
  local msg
  msg=$(helm template catalog helm/catalog --set 'ingress.routes.public.paths={/internal/v1}' 2>&1) && return 1
  grep -q 'must never be routed' <<<"$msg" || { echo "$msg"; return 1; }
  msg=$(helm template cart helm/cart --set api.autoscaling.minReplicas=30 2>&1) && return 1
  grep -q 'minReplicas (30) is above maxReplicas' <<<"$msg" || { echo "$msg"; return 1; }
  msg=$(helm template order helm/order --set port=9000 2>&1) && return 1
  grep -q 'must listen on port (9000)' <<<"$msg" || { echo "$msg"; return 1; }
}

# A deliberately wrong HPA (a field that does not exist) must be rejected.
validator_rejects_broken() {
  cat >"$out/broken.yaml" <<'YAML'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: broken}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}
  minReplicas: 2
  maxReplicas: 20
  targetCPUUtilizationPercentage: 70
YAML
  ! k8s_validate 1.33.0 "$out/broken.yaml"
}

# The Compose profile's Prometheus config, with its rule file where the container mounts it
# replaced by the repository's copy.
prometheus_config() {
  sed "s|/etc/prometheus/alerts.yaml|$PWD/helm/monitoring/files/alerts.yaml|" deploy/observability/prometheus.yml \
    >"$out/prometheus.yml"
  promtool check config "$out/prometheus.yml"
}

echo "deploy checks (Kubernetes schemas: $K8S_VERSIONS)"
check "hadolint Dockerfile.service" hadolint Dockerfile.service
check "docker-compose.yml matches the Compose specification" \
  check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
check "docker-compose.yml wiring (depends_on, migrations, published ports, gateway config)" \
  "$PY" deploy/checks/compose_test.py docker-compose.yml
check "yamllint (chart values and Chart.yaml, deploy/, docker-compose.yml)" \
  yamllint --strict -c .yamllint helm/*/values*.yaml helm/*/Chart.yaml deploy/k8s deploy/ingress-nginx \
  deploy/otel deploy/observability docker-compose.yml
check "OpenTelemetry Collector config: pipelines, receivers and exporters defined (deploy/checks/otel_test.py)" \
  "$PY" deploy/checks/otel_test.py deploy/otel/collector.yaml docker-compose.yml

charts=()
for chart_yaml in helm/*/Chart.yaml; do
  if grep -q '^type: library' "$chart_yaml"; then
    check "helm lint --strict $(basename "$(dirname "$chart_yaml")") (library)" helm lint --strict "$(dirname "$chart_yaml")"
  else
    charts+=("$(dirname "$chart_yaml")")
  fi
done
rendered=()
for chart in "${charts[@]}"; do
  name=$(basename "$chart")
  check "helm dependency build $name" helm dependency build "$chart" --skip-refresh
  for values in default production; do
    args=()
    [[ $values == production ]] && args=(-f "$chart/values-production.yaml")
    check "helm lint --strict $name ($values values)" helm lint --strict "$chart" "${args[@]}"
    check "helm template $name ($values values)" \
      render "$out/$name-$values.yaml" "$name" "$chart" "${args[@]}"
    rendered+=("$out/$name-$values.yaml")
  done
  # Every optional part off: the other branches of the templates must render valid objects too.
  check "helm template $name (autoscaling, PDB, ingress, policy, migrations off)" \
    render "$out/$name-minimal.yaml" "$name" "$chart" --set "$MINIMAL"
  rendered+=("$out/$name-minimal.yaml")
done
check "charts refuse an /internal route, minReplicas above maxReplicas, HTTP_ADDR off the port" refusals
check "ServiceMonitors (CRD) reference a Service port; built-in objects extracted" \
  "$PY" deploy/checks/manifests.py "$out/builtin.yaml" "${rendered[@]}"
for version in $K8S_VERSIONS; do
  check "rendered manifests and deploy/k8s/ valid for Kubernetes $version (kubernetes-validate --strict)" \
    k8s_validate "$version" "$out/builtin.yaml" deploy/k8s/*.yaml
done
check "kubernetes-validate rejects a broken manifest" validator_rejects_broken
check "gateway, Ingresses and docs/deploy.md name the same prefixes" \
  "$PY" deploy/checks/routes_test.py "$out"/*-default.yaml
check "gateway routes through NGINX (deploy/checks/gateway_test.py)" \
  python3 deploy/checks/gateway_test.py

# Alerts and dashboard (helm/monitoring/files): promtool from Debian's prometheus package.
if ! command -v promtool >/dev/null; then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; } || true
  fi
fi
check "promtool check rules helm/monitoring/files/alerts.yaml" promtool check rules helm/monitoring/files/alerts.yaml
check "promtool check config deploy/observability/prometheus.yml (Compose observability profile)" prometheus_config
check "promtool test rules helm/monitoring/files/alerts_test.yaml (alert unit tests)" \
  promtool test rules helm/monitoring/files/alerts_test.yaml
check "alerts and dashboard name only metrics the code registers" python3 deploy/checks/monitoring_test.py

echo "deploy: $passed passed, $failed failed"
((failed == 0))
