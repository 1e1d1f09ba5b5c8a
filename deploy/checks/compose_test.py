#!/usr/bin/env python3
"""What the Compose schema cannot see in docker-compose.yml.

    compose_test.py [docker-compose.yml]

The schema check (check-jsonschema, vendor.compose-spec) proves the shape; this proves
the wiring: every depends_on target exists; every service has a one-shot `<name>-migrate`
it waits for (service_completed_successfully) that runs `migrate` with the same image;
only the gateway and the RabbitMQ UI publish ports, on the loopback address; the gateway
uses deploy/nginx/gateway.conf.template and names every upstream variable; each image
built from Dockerfile.service names a binary of ARCHITECTURE.md §6.
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
PUBLISHERS = {"gateway", "rabbitmq", "mailsink"}


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
