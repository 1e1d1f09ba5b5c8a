"""The dashboard and the alerts name only metrics the code registers.

Usage: python3 deploy/checks/monitoring_test.py
Every metric name in helm/monitoring/files/alerts.yaml and dashboard.json must be registered in the
Rust sources (a string literal), or be one of actix-web-prom's per-service request metrics;
the dashboard must be well-formed (unique panel ids, every panel with a PromQL target).
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "cart", "order", "payment_webhook")
# actix-web-prom registers these per namespace (the service name, '-' as '_').
HTTP = {"http_requests_total", "http_requests_duration_seconds"}
BUILTIN = {"up"}
SUFFIXES = ("_bucket", "_sum", "_count")


def sources() -> str:
    parts = []
    for path in list(ROOT.glob("crates/*/src/**/*.rs")) + list(ROOT.glob("services/*/src/**/*.rs")):
        parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def metric_names(expr: str) -> set:
    names = set()
    for regex in re.findall(r'__name__=~"([^"]+)"', expr):
        for svc in SERVICES:
            for http in HTTP:
                for suffix in ("",) + SUFFIXES:
                    name = f"{svc}_{http}{suffix}"
                    if re.fullmatch(regex, name):
                        names.add(name)
    # What is left once label matchers, groupings, strings and durations are gone: metric names
    # and functions.
    bare = re.sub(r"\{[^}]*\}", " ", expr)
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", " ", bare)
    bare = re.sub(r'"[^"]*"', " ", bare)
    bare = re.sub(r"\[[^\]]*\]", " ", bare)
    functions = {"rate", "increase", "sum", "max", "min", "histogram_quantile", "avg", "count", "humanizePercentage"}
    for token in re.findall(r"\b[a-z_][a-z0-9_]*\b", bare):
        if token not in functions and ("_" in token or token == "up"):
            names.add(token)
    return names


def registered(name: str, code: str) -> bool:
    base = name
    for suffix in SUFFIXES:
        if base.endswith(suffix) and not base.endswith("_total"):
            base = base[: -len(suffix)]
    if base in BUILTIN:
        return True
    for svc in SERVICES:
        if base.startswith(svc + "_") and base[len(svc) + 1 :] in HTTP:
            return True
    return f'"{base}"' in code


def main() -> int:
    code = sources()
    errors = []
    alerts = (ROOT / "helm/monitoring/files/alerts.yaml").read_text(encoding="utf-8")
    exprs = [m.group(1) for m in re.finditer(r"expr: (?:\|\n)?((?:.+\n?)+?)\s+(?:for|labels):", alerts)]
    dashboard = json.loads((ROOT / "helm/monitoring/files/dashboard.json").read_text(encoding="utf-8"))
    ids = [p["id"] for p in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        errors.append("dashboard: duplicate panel ids")
    for panel in dashboard["panels"]:
        targets = panel.get("targets") or []
        if not targets or not all(t.get("expr") for t in targets):
            errors.append(f"dashboard: panel {panel.get('title')!r} has no PromQL target")
        exprs.extend(t["expr"] for t in targets)
    if len(exprs) < 20:
        errors.append(f"only {len(exprs)} expressions found: the parser is broken")
    for expr in exprs:
        for name in metric_names(expr):
            if not registered(name, code):
                errors.append(f"{name!r} (in {expr.strip()[:60]!r}...) is registered nowhere in the code")
    for e in errors:
        print(e)
    print(f"monitoring: {len(exprs)} expressions, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
