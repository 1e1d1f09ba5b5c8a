#!/usr/bin/env python3
"""Offline checks of the OpenTelemetry Collector config (deploy/otel/collector.yaml).

    otel_test.py [collector.yaml] [docker-compose.yml]

No Collector binary is needed: the YAML is read and checked for what `otelcol validate`
would refuse and what the Compose profile relies on. Every pipeline names only receivers,
processors and exporters defined above it (component ids are `type` or `type/name`), and
every defined one is used; a `traces` pipeline exists, goes from the OTLP receiver through
`batch` to an OTLP (or Jaeger) exporter; `memory_limiter`, when present, comes first;
extensions used by the service are defined; the OTLP receiver listens on 4318 (HTTP: what
the services' OTLP/HTTP exporter sends to) and 4317; an exporter's `host:port` names a
Compose service. Prints one line per failure and "otel: N passed, N failed".
Needs PyYAML (the tools venv has it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("receivers", "processors", "exporters")


def check(config: dict, compose_services: set[str]) -> list[str]:
    errors: list[str] = []
    service = config.get("service") or {}
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        return ["service.pipelines: none defined"]
    used: dict[str, set[str]] = {k: set() for k in KINDS}
    for name, p in pipelines.items():
        signal = name.split("/", 1)[0]
        if signal not in ("traces", "metrics", "logs"):
            errors.append(f"pipeline {name}: {signal!r} is not traces, metrics or logs")
        for kind in KINDS:
            ids = (p or {}).get(kind) or []
            if kind != "processors" and not ids:
                errors.append(f"pipeline {name}: no {kind}")
            for cid in ids:
                used[kind].add(cid)
                if cid not in (config.get(kind) or {}):
                    errors.append(f"pipeline {name}: {kind[:-1]} {cid!r} is not defined under {kind}")
        procs = (p or {}).get("processors") or []
        if "memory_limiter" in procs and procs[0] != "memory_limiter":
            errors.append(f"pipeline {name}: memory_limiter must be the first processor")
    for kind in KINDS:
        for cid in config.get(kind) or {}:
            if cid not in used[kind]:
                errors.append(f"{kind[:-1]} {cid!r} is defined but in no pipeline")
    for ext in service.get("extensions") or []:
        if ext not in (config.get("extensions") or {}):
            errors.append(f"service extension {ext!r} is not defined under extensions")
    traces = pipelines.get("traces") or {}
    if "otlp" not in (traces.get("receivers") or []):
        errors.append("pipeline traces: must receive otlp (the services export OTLP/HTTP)")
    if "batch" not in (traces.get("processors") or []):
        errors.append("pipeline traces: must batch")
    if not any(e.split("/")[0] in ("otlp", "otlphttp", "jaeger") for e in traces.get("exporters") or []):
        errors.append("pipeline traces: needs an OTLP or Jaeger exporter")
    protocols = (((config.get("receivers") or {}).get("otlp") or {}).get("protocols")) or {}
    for proto, port in (("http", "4318"), ("grpc", "4317")):
        endpoint = str((protocols.get(proto) or {}).get("endpoint", ""))
        if not endpoint.endswith(f":{port}"):
            errors.append(f"receiver otlp: {proto} must listen on :{port}, has {endpoint!r}")
    for cid, exp in (config.get("exporters") or {}).items():
        endpoint = str((exp or {}).get("endpoint", ""))
        host = endpoint.split("://")[-1].split(":")[0]
        if host and host not in ("0.0.0.0", "localhost", "127.0.0.1") and host not in compose_services:
            errors.append(f"exporter {cid}: sends to {host!r}, which is no Compose service")
    return errors


def main(path: str, compose: str) -> int:
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        print(f"  FAIL {path}: not valid YAML: {e}")
        print("otel: 0 passed, 1 failed")
        return 1
    services = set((yaml.safe_load(Path(compose).read_text(encoding="utf-8")).get("services") or {}).keys())
    errors = check(config if isinstance(config, dict) else {}, services)
    # The check itself must catch a pipeline naming an undefined exporter.
    broken = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    broken["service"]["pipelines"]["traces"]["exporters"] = ["otlp/nowhere"]
    if not any("otlp/nowhere" in e for e in check(broken, services)):
        errors.append("the check did not refuse a pipeline with an undefined exporter")
    for e in errors:
        print(f"  FAIL {e}")
    print(f"otel: {0 if errors else 1} passed, {len(errors)} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(
        main(
            sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "deploy/otel/collector.yaml"),
            sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "docker-compose.yml"),
        )
    )
