#!/usr/bin/env python3
"""Prepares rendered chart output for the Kubernetes schema check.

    manifests.py OUT.yaml RENDERED.yaml...

Writes every built-in object to OUT.yaml (for kubernetes-validate) and checks the
CustomResources itself: kubernetes-validate bundles only the built-in schemas and would
merely WARN on a ServiceMonitor or PrometheusRule (monitoring.coreos.com/v1, Prometheus
Operator CRDs), so their shape is checked here: for a ServiceMonitor a selector, endpoints,
and an endpoint port that a Service of the same render, matching the selector, names; for a
PrometheusRule named groups of rules with an expression and a severity. Exits non-zero on
any problem.
Needs PyYAML (the tools venv has it).
"""

from __future__ import annotations

import sys

import yaml

CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}


def check_prometheus_rule(rule: dict) -> list[str]:
    """A PrometheusRule: named groups, each rule an alert or a record with an expression."""
    name = rule.get("metadata", {}).get("name", "?")
    groups = (rule.get("spec") or {}).get("groups") or []
    errors = [] if groups else [f"PrometheusRule {name}: no spec.groups"]
    for g in groups:
        if not g.get("name") or not g.get("rules"):
            errors.append(f"PrometheusRule {name}: a group without a name or rules")
        for r in g.get("rules") or []:
            if not (r.get("alert") or r.get("record")) or not str(r.get("expr", "")).strip():
                errors.append(f"PrometheusRule {name}: a rule without alert/record or expr: {r}")
            if r.get("alert") and (r.get("labels") or {}).get("severity") not in ("critical", "warning", "info"):
                errors.append(f"PrometheusRule {name}: alert {r.get('alert')} has no severity")
    return errors


def check_service_monitor(sm: dict, services: list[dict]) -> list[str]:
    name = sm.get("metadata", {}).get("name", "?")
    spec = sm.get("spec") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    endpoints = spec.get("endpoints") or []
    errors = []
    if not labels:
        errors.append(f"ServiceMonitor {name}: spec.selector.matchLabels is empty")
    if not endpoints:
        errors.append(f"ServiceMonitor {name}: no spec.endpoints")
    matching = [
        s for s in services if all((s.get("metadata", {}).get("labels") or {}).get(k) == v for k, v in labels.items())
    ]
    if labels and not matching:
        errors.append(f"ServiceMonitor {name}: no Service matches {labels}")
    ports = {p.get("name") for s in matching for p in (s.get("spec", {}).get("ports") or [])}
    for ep in endpoints:
        if ep.get("port") not in ports:
            errors.append(f"ServiceMonitor {name}: endpoint port {ep.get('port')!r} is not a port of {sorted(ports)}")
        if not str(ep.get("path", "")).startswith("/"):
            errors.append(f"ServiceMonitor {name}: endpoint path {ep.get('path')!r}")
    return errors


def main(out: str, files: list[str]) -> int:
    docs = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            docs.extend(d for d in yaml.safe_load_all(fh) if d)
    builtin = [d for d in docs if (d.get("apiVersion"), d.get("kind")) not in CRDS]
    services = [d for d in docs if d.get("kind") == "Service"]
    errors = []
    for d in docs:
        if (d.get("apiVersion"), d.get("kind")) == ("monitoring.coreos.com/v1", "ServiceMonitor"):
            errors.extend(check_service_monitor(d, services))
        elif (d.get("apiVersion"), d.get("kind")) == ("monitoring.coreos.com/v1", "PrometheusRule"):
            errors.extend(check_prometheus_rule(d))
    with open(out, "w", encoding="utf-8") as fh:
        yaml.safe_dump_all(builtin, fh, sort_keys=False)
    for e in errors:
        print(f"FAIL {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
