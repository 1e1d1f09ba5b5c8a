#!/usr/bin/env python3
"""What the Compose schema cannot see in docker-compose.yml.

    compose_test.py [docker-compose.yml]

The schema check (check-jsonschema, vendor.compose-spec) proves the shape; this proves
the wiring: every depends_on target exists; every service has a one-shot `<name>-migrate`
it waits for (service_completed_successfully) that runs `migrate` with the same image;
only the gateway, the RabbitMQ UI, the mail sink, the Stripe emulator (the storefront's
browser pays there) and the observability UIs publish ports, on the loopback address; the
gateway uses deploy/nginx/gateway.conf.template and names every upstream variable and mounts
the storefront; each image built from Dockerfile.service names a binary of ARCHITECTURE.md §6;
the `observability` profile holds the Collector, Jaeger, Prometheus and Grafana, every file
they mount exists, the Collector mounts deploy/otel/collector.yaml, Prometheus scrapes each
service under a job named like it (the dashboard's and alerts' `job`), and Grafana provisions
helm/monitoring/files/dashboard.json; no service outside the profile depends on one inside.
Needs PyYAML (the tools venv has it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["catalog", "cart", "order", "payment-webhook"]
BINARIES = set(SERVICES) | {"stripe-emulator"}
PUBLISHERS = {"gateway", "rabbitmq", "mailsink", "stripe-emulator", "jaeger", "prometheus", "grafana"}
OBSERVABILITY = {"otel-collector", "jaeger", "prometheus", "grafana"}
SERVICE_PORTS = {"catalog": 8081, "cart": 8082, "order": 8083, "payment-webhook": 8084}


def observability(svcs: dict, errors: list[str]) -> None:
    """The optional `observability` profile: wiring and the files it mounts."""
    for name in sorted(OBSERVABILITY):
        s = svcs.get(name)
        if s is None:
            errors.append(f"observability: needs the {name} service")
            continue
        if s.get("profiles") != ["observability"]:
            errors.append(f"{name}: must be in profiles [observability] only, has {s.get('profiles')!r}")
    for name, s in svcs.items():
        for v in s.get("volumes") or []:
            src = str(v).split(":", 1)[0]
            if src.startswith("./") and not (ROOT / src).exists():
                errors.append(f"{name}: mounts {src}, which does not exist")
        if name in OBSERVABILITY:
            continue
        deps = s.get("depends_on") or {}
        for dep in deps if isinstance(deps, (list, dict)) else []:
            if dep in OBSERVABILITY:
                errors.append(f"{name}: depends on {dep}, which only runs with --profile observability")
    mounts = lambda n: [str(v) for v in (svcs.get(n) or {}).get("volumes") or []]  # noqa: E731
    if not any(m.startswith("./deploy/otel/collector.yaml:") for m in mounts("otel-collector")):
        errors.append("otel-collector: must mount deploy/otel/collector.yaml")
    if not any(m.startswith("./helm/monitoring/files/dashboard.json:") for m in mounts("grafana")):
        errors.append("grafana: must provision helm/monitoring/files/dashboard.json")
    prom = next((m.split(":")[0] for m in mounts("prometheus") if m.endswith("prometheus.yml:ro")), None)
    if prom is None:
        errors.append("prometheus: must mount its prometheus.yml")
        return
    config = yaml.safe_load((ROOT / prom).read_text(encoding="utf-8"))
    jobs = {
        j.get("job_name"): [t for sc in j.get("static_configs") or [] for t in sc.get("targets") or []]
        for j in config.get("scrape_configs") or []
    }
    for svc, port in SERVICE_PORTS.items():
        if jobs.get(svc) != [f"{svc}:{port}"]:
            errors.append(f"prometheus: job {svc!r} must scrape {svc}:{port} (has {jobs.get(svc)!r})")


def main(path: str) -> int:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    svcs: dict = spec["services"]
    errors: list[str] = []
    for name, s in svcs.items():
        deps = s.get("depends_on") or {}
        for dep in deps if isinstance(deps, (list, dict)) else []:
            if dep not in svcs:
                errors.append(f"{name}: depends_on {dep!r}, which is not a service")
        for port in s.get("ports") or []:
            if name not in PUBLISHERS:
                errors.append(f"{name}: publishes {port}; only {sorted(PUBLISHERS)} may")
            elif not str(port).startswith("127.0.0.1:"):
                errors.append(f"{name}: publishes {port} on every interface, not 127.0.0.1")
        build = s.get("build") or {}
        if isinstance(build, dict) and build.get("dockerfile") == "Dockerfile.service":
            arg = (build.get("args") or {}).get("SERVICE")
            if arg not in BINARIES:
                errors.append(f"{name}: builds SERVICE={arg!r}, not one of {sorted(BINARIES)}")
    for s in SERVICES:
        mig = f"{s}-migrate"
        if s not in svcs or mig not in svcs:
            errors.append(f"{s}: needs the service and its one-shot {mig}")
            continue
        if svcs[mig].get("command") != ["migrate"] or svcs[mig].get("image") != svcs[s].get("image"):
            errors.append(f"{mig}: must run `migrate` with {s}'s image")
        cond = ((svcs[s].get("depends_on") or {}).get(mig) or {}).get("condition")
        if cond != "service_completed_successfully":
            errors.append(f"{s}: must wait for {mig} (service_completed_successfully), has {cond!r}")
    worker = svcs.get("order-worker") or {}
    if worker.get("command") != ["worker"] or worker.get("image") != (svcs.get("order") or {}).get("image"):
        errors.append("order-worker: must run `worker` with the order image")
    gw = svcs.get("gateway") or {}
    mounts = [str(v) for v in gw.get("volumes") or []]
    if not any(m.startswith("./deploy/nginx/gateway.conf.template:") for m in mounts):
        errors.append("gateway: must mount deploy/nginx/gateway.conf.template (the make dev config)")
    if not any(m.startswith("./storefront:") for m in mounts):
        errors.append("gateway: must mount ./storefront (served at /)")
    observability(svcs, errors)
    template = (ROOT / "deploy/nginx/gateway.conf.template").read_text(encoding="utf-8")
    needed = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    missing = needed - set((gw.get("environment") or {}).keys())
    if missing:
        errors.append(f"gateway: environment lacks {sorted(missing)} used by the template")
    for e in errors:
        print(f"  FAIL {e}")
    print(f"compose: {0 if errors else 1} passed, {len(errors)} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docker-compose.yml")))
