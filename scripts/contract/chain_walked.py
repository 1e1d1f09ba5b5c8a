#!/usr/bin/env python3
"""Did the contract run's stateful phase really buy something? Reads its HAR file and fails
unless it holds a checkout answered 201 and an order read (with that order's token) answered
200 — the proof that the merged document's links carried a shopper from cart to order.

Usage: chain_walked.py PUBLIC_HAR   (scripts/contract.sh runs it; stdlib only)
"""

import json
import re
import sys
from collections import Counter

STEPS = {
    "cart created": ("POST", re.compile(r"/api/v1/carts$"), 201),
    "line added": ("POST", re.compile(r"/api/v1/carts/[^/]+/items$"), 201),
    "checkout": ("POST", re.compile(r"/api/v1/checkout$"), 201),
    "order read": ("GET", re.compile(r"/api/v1/orders/ORD-[^/?]+$"), 200),
}


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        entries = json.load(f)["log"]["entries"]
    seen = Counter()
    for e in entries:
        method, url, status = e["request"]["method"], e["request"]["url"].split("?")[0], e["response"]["status"]
        for step, (m, path, code) in STEPS.items():
            if method == m and path.search(url) and status == code:
                seen[step] += 1
    summary = ", ".join(f"{step} {seen[step]}" for step in STEPS)
    missing = [step for step in STEPS if not seen[step]]
    if missing:
        raise SystemExit(f"contract: public: the stateful phase never reached {', '.join(missing)} ({summary} of {len(entries)} requests)")
    print(f"contract: public: the shopper's chain walked: {summary} (of {len(entries)} requests)", file=sys.stderr)


if __name__ == "__main__":
    main()
