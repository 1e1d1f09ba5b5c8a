#!/usr/bin/env python3
"""Prepares rendered chart output for the Kubernetes schema check.

    manifests.py OUT.yaml RENDERED.yaml...

Writes every built-in object to OUT.yaml (for kubernetes-validate) and checks the
CustomResources itself: kubernetes-validate bundles only the built-in schemas and would
merely WARN on a ServiceMonitor (monitoring.coreos.com/v1, a Prometheus Operator CRD), so
its shape is checked here: a selector, endpoints, and an endpoint port that a Service of
the same render, matching the selector, names. Exits non-zero on any problem.
Needs PyYAML (the tools venv has it).
"""

from __future__ import annotations

import sys

import yaml

CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


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
        if (d.get("apiVersion"), d.get("kind")) in CRDS:
            errors.extend(check_service_monitor(d, services))
    with open(out, "w", encoding="utf-8") as fh:
        yaml.safe_dump_all(builtin, fh, sort_keys=False)
    for e in errors:
        print(f"FAIL {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
