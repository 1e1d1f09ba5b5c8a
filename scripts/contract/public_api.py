#!/usr/bin/env python3
"""The shop's public API as one OpenAPI document, for the contract run's stateful phase.

Each service documents only its own routes, so a link cannot cross from cart to order inside
one document. This merges the documents the gateway serves (/docs/<service>/openapi.json) into
one: every shopper's operation the gateway routes (paths under /api/v1/ but not admin ones),
their components, and the links a guest shopper follows across services (an operation open to
guests is called as one):

    create_cart --201--> add_cart_item (a product made for the walk, a million in stock)
    add_cart_item --201--> checkout (that cart, its token, a deliverable address)
    checkout --201--> show_order / cancel_order (the services' own links)

Usage: public_api.py GATEWAY_URL OUT_FILE   (scripts/contract.sh runs it; stdlib only)
"""

import json
import os
import sys
import time
import urllib.request

SERVICES = ("catalog", "cart", "order")
PUBLIC_PREFIX = "/api/v1/"
# Admin routes are walked in each service's own run; here they would only dilute the walk.
ADMIN_PREFIX = "/api/v1/admin/"
ADDRESS = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def merge_component(into, kind, name, value, service, clashes):
    have = into.setdefault(kind, {})
    if name in have and have[name] != value:
        clashes.append(f"{service} defines components/{kind}/{name} unlike another service")
    have[name] = value


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                yield path, method, op


def add_link(doc, from_id, status, name, link):
    for _, _, op in operations(doc):
        if op["operationId"] == from_id:
            op["responses"][status].setdefault("links", {})[name] = link
            return
    raise SystemExit(f"public_api: no operation {from_id} to link from")


def as_guest(op):
    """An operation open to guests is walked as a guest: its optional bearer goes (the run's
    admin token would make every cart a customer's, with no X-Cart-Token to follow)."""
    security = op.get("security")
    if security and {} in security:
        op["security"] = [{}]


def walk_product(gateway):
    """The product the walk buys: a fresh one with a million units (so no run's reservations
    starve the next), created with the admin token scripts/contract.sh exports."""
    token = os.environ.get("CONTRACT_ADMIN_TOKEN")
    if not token:
        raise SystemExit("public_api: CONTRACT_ADMIN_TOKEN is not set (scripts/contract.sh sets it)")
    sku = f"WALK-{os.getpid()}-{int(time.time())}"
    body = {
        "sku": sku, "name": f"Contract Walk Tee {sku}", "description": "Bought by the contract run.",
        "price_cents": 1500, "attributes": {"category": "contract"}, "stock_quantity": 1_000_000,
        "status": "active",
    }
    req = urllib.request.Request(
        f"{gateway}/api/v1/admin/products", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["data"]["sku"]


def merge(gateway):
    out = {"openapi": "3.1.0", "paths": {}, "components": {}}
    clashes = []
    for service in SERVICES:
        doc = get_json(f"{gateway}/docs/{service}/openapi.json")
        out.setdefault("info", {"title": "The shop's public API (merged)", "version": doc["info"]["version"]})
        for path, item in doc["paths"].items():
            if not path.startswith(PUBLIC_PREFIX) or path.startswith(ADMIN_PREFIX):
                continue
            if path in out["paths"]:
                raise SystemExit(f"public_api: {path} is documented by two services")
            out["paths"][path] = item
            for op in item.values():
                if isinstance(op, dict):
                    as_guest(op)
        for kind, entries in doc.get("components", {}).items():
            for name, value in entries.items():
                merge_component(out["components"], kind, name, value, service, clashes)
    if clashes:
        raise SystemExit("public_api: one name, two shapes (a client generated from the shop's API would get one):\n  " + "\n  ".join(clashes))
    sku = walk_product(gateway)
    # The bodies below replace the generated ones (merge_body false): a merged body would name
    # a product twice or leave an address half-made.
    add_link(out, "create_cart", "201", "BuyAProduct", {
        "operationId": "add_cart_item",
        "parameters": {"path.id": "$response.body#/id", "header.X-Cart-Token": "$response.body#/token"},
        "requestBody": {"sku": sku, "quantity": 1},
        "x-schemathesis": {"merge_body": False},
    })
    add_link(out, "add_cart_item", "201", "CheckOut", {
        "operationId": "checkout",
        "parameters": {
            "header.X-Cart-Token": "$request.header.X-Cart-Token",
            # One key per state of the cart: the cart's last change.
            "header.Idempotency-Key": "$response.body#/updated_at",
        },
        "requestBody": {
            "cart_id": "$response.body#/id",
            "customer_email": "contract@example.com",
            "customer_name": "Contract Shopper",
            "shipping_address": ADDRESS,
            "billing_address": ADDRESS,
        },
        "x-schemathesis": {"merge_body": False},
    })
    return out


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    doc = merge(sys.argv[1].rstrip("/"))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    ops = sum(1 for _ in operations(doc))
    links = sum(len(r.get("links", {})) for _, _, op in operations(doc) for r in op["responses"].values())
    print(f"public_api: {ops} operations, {links} links -> {sys.argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    main()
