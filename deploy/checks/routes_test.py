#!/usr/bin/env python3
"""The gateway, the Ingresses and docs/deploy.md name the same path prefixes.

    routes_test.py RENDERED.yaml...      (helm template output of every chart)

Reads (prefix -> service) from three places and fails when they differ:
  - deploy/nginx/gateway.conf.template: each `location = P` / `location P/` pair and
    the upstream it proxies to (both forms must exist: that is the Ingress's
    pathType Prefix matching);
  - the rendered Ingresses: each path and its backend Service;
  - the routing table of docs/deploy.md ("| `P` | service |" rows).
Also: nothing under /internal is routed anywhere, and every Ingress path is Prefix.
Needs PyYAML (the tools venv has it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def gateway_routes() -> tuple[dict[str, str], list[str]]:
    text = (ROOT / "deploy/nginx/gateway.conf.template").read_text(encoding="utf-8")
    exact: dict[str, str] = {}
    below: dict[str, str] = {}
    errors = []
    for m in re.finditer(r"location\s+(=\s+)?(/[^\s{]*)\s*\{([^}]*)\}", text):
        is_exact, path, body = bool(m.group(1)), m.group(2), m.group(3)
        up = re.search(r"proxy_pass\s+http://([\w-]+)\s*;", body)
        if not up:
            continue
        if is_exact:
            exact[path] = up.group(1)
        elif path.endswith("/"):
            below[path.rstrip("/")] = up.group(1)
        else:
            errors.append(f"gateway: `location {path}` is not a whole-segment prefix (use `= {path}` and `{path}/`)")
    for p in sorted(set(exact) ^ set(below)):
        errors.append(f"gateway: {p} needs both `location = {p}` and `location {p}/` (Ingress Prefix semantics)")
    for p in sorted(set(exact) & set(below)):
        if exact[p] != below[p]:
            errors.append(f"gateway: {p} and {p}/ go to different upstreams")
    return {p: s for p, s in exact.items() if p in below}, errors


def ingress_routes(files: list[str]) -> tuple[dict[str, str], list[str]]:
    routes: dict[str, str] = {}
    errors = []
    for f in files:
        for doc in yaml.safe_load_all(Path(f).read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "Ingress":
                continue
            for rule in doc["spec"].get("rules", []):
                for p in rule.get("http", {}).get("paths", []):
                    if p.get("pathType") != "Prefix":
                        errors.append(f"ingress {doc['metadata']['name']}: {p['path']} is {p.get('pathType')}, not Prefix")
                    svc = p["backend"]["service"]["name"]
                    if routes.get(p["path"], svc) != svc:
                        errors.append(f"ingress: {p['path']} goes to both {routes[p['path']]} and {svc}")
                    routes[p["path"]] = svc
    return routes, errors


def docs_routes() -> dict[str, str]:
    text = (ROOT / "docs/deploy.md").read_text(encoding="utf-8")
    section = text.split("## Path routing", 1)[-1].split("\n## ", 1)[0]
    routes = {}
    for m in re.finditer(r"^\|\s*`(/[^`]+)`\s*\|\s*([a-z-]+)\s*\|", section, re.M):
        routes[m.group(1)] = m.group(2)
    return routes


def main(files: list[str]) -> int:
    gw, errors = gateway_routes()
    ing, ing_errors = ingress_routes(files)
    errors += ing_errors
    doc = docs_routes()
    sources = {"gateway": gw, "ingress": ing, "docs/deploy.md": doc}
    for name, routes in sources.items():
        if not routes:
            errors.append(f"{name}: no routes found")
        for p in routes:
            if p.startswith("/internal"):
                errors.append(f"{name}: routes {p}, which must never be routed")
    for a, b in (("gateway", "ingress"), ("gateway", "docs/deploy.md")):
        ra, rb = sources[a], sources[b]
        for p in sorted(set(ra) | set(rb)):
            if ra.get(p) != rb.get(p):
                errors.append(f"{p}: {a} -> {ra.get(p)}, {b} -> {rb.get(p)}")
    for e in errors:
        print(f"  FAIL {e}")
    if not errors:
        for p, s in sorted(gw.items()):
            print(f"  PASS {p} -> {s} (gateway, ingress, docs)")
    print(f"routes: {0 if errors else len(gw)} passed, {len(errors)} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
