#!/usr/bin/env python3
"""Routes real requests through the local gateway (deploy/nginx/) and checks where they land.

Starts one stub HTTP server per service (each answers with its own name and what it
received), renders the gateway config with scripts/gateway.sh for those ports and a free
gateway port, runs NGINX in the foreground, sends the requests, and always stops NGINX and
the stubs at the end. Standard library only. Prints one line per check and a closing
"N passed, N failed"; exits non-zero when any check fails.

    python3 deploy/checks/gateway_test.py
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["catalog", "cart", "order", "payment-webhook"]

# API.md's routing table: one request per prefix (the prefix itself and one path below it).
ROUTES = {
    "/api/v1/products": "catalog",
    "/api/v1/admin/products": "catalog",
    "/api/v1/carts": "cart",
    "/api/v1/checkout": "order",
    "/api/v1/orders": "order",
    "/api/v1/admin/orders": "order",
    "/webhooks/stripe": "payment-webhook",
}
SECURITY_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "X-XSS-Protection": "1; mode=block",
}
DEADLINE_S = 10.0


class Stub(BaseHTTPRequestHandler):
    """Answers any request with the service's name, the path and the headers it got."""

    service = "?"
    hits: list[tuple[str, str]] = []
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with Stub.lock:
            Stub.hits.append((self.service, self.path))
        out = json.dumps(
            {
                "service": self.service,
                "path": self.path,
                "method": self.command,
                "body_len": len(body),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *_args) -> None:  # quiet
        pass


def start_stub(service: str) -> ThreadingHTTPServer:
    handler = type(f"Stub_{service}", (Stub,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    """NGINX with the rendered deploy/nginx config, stopped on exit whatever happens."""

    def __init__(self, stubs: dict[str, ThreadingHTTPServer]):
        self.dir = tempfile.mkdtemp(prefix="gateway-test-")
        self.proc: subprocess.Popen | None = None
        gw = str(ROOT / "scripts/gateway.sh")
        nginx = subprocess.run([gw, "nginx"], check=True, capture_output=True, text=True).stdout.strip()
        upstreams = {
            f"{s.upper().replace('-', '_')}_ADDR": f"127.0.0.1:{stubs[s].server_address[1]}" for s in SERVICES
        }
        # The free port is found by binding and closing; another process may take it before
        # NGINX binds, so a bind failure picks another port (three tries).
        for _ in range(3):
            self.port = free_port()
            env = dict(os.environ, GATEWAY_LISTEN=f"127.0.0.1:{self.port}", GATEWAY_ACCESS_LOG="off", **upstreams)
            subprocess.run([gw, "render", self.dir], env=env, check=True)
            conf = os.path.join(self.dir, "nginx.conf")
            self.proc = subprocess.Popen(
                [nginx, "-e", "stderr", "-p", self.dir, "-c", conf],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                if self._wait_until_up():
                    return
            except BaseException:
                self.stop()  # never leave NGINX running
                raise
        self.stop()
        raise RuntimeError("nginx could not bind a free port in three tries")

    def _wait_until_up(self) -> bool:
        """True once /health answers; False when NGINX lost its port; raises otherwise."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                status, _, _ = self.request("GET", "/health")
                if status == 200:
                    return True
            except OSError:
                pass
            if self.proc.poll() is not None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                if "Address already in use" in err:
                    return False
                raise RuntimeError(f"nginx exited: {err}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not answer /health within {DEADLINE_S}s")
            time.sleep(0.05)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir], check=False)


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
            print(f"  PASS {name}")
        else:
            self.failed += 1
            print(f"  FAIL {name}{': ' + detail if detail else ''}")


def reached(gw: Gateway, method: str, path: str, **kw):
    status, headers, body = gw.request(method, path, **kw)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    return status, headers, payload


def run(gw: Gateway, r: Results) -> None:
    # 1. Each prefix, and a path below it, reaches its service with the path unchanged.
    for prefix, service in ROUTES.items():
        for path in (prefix, prefix + "/x-1?a=b"):
            method = "POST" if prefix in ("/webhooks/stripe", "/api/v1/checkout") else "GET"
            status, _, p = reached(gw, method, path, body=b"{}" if method == "POST" else None)
            r.check(
                f"{method} {path} -> {service}",
                status == 200 and p.get("service") == service and p.get("path") == path,
                f"status {status}, reached {p.get('service')!r} at {p.get('path')!r}",
            )

    # 1b. /docs: the Swagger UI page from disk, each service's document from the service.
    for service in SERVICES:
        path = f"/docs/{service}/openapi.json"
        status, _, p = reached(gw, "GET", path)
        r.check(
            f"GET {path} -> {service} /openapi.json",
            status == 200 and p.get("service") == service and p.get("path") == "/openapi.json",
            f"status {status}, reached {p.get('service')!r} at {p.get('path')!r}",
        )
    Stub.hits.clear()
    status, headers, body = gw.request("GET", "/docs/")
    page_ok = status == 200 and b"swagger-ui" in body and headers.get("content-type", "").startswith("text/html")
    r.check("GET /docs/ serves the Swagger UI page", page_ok and not Stub.hits, f"status {status}")
    status, headers, body = gw.request("GET", "/docs/swagger-initializer.js")
    lists = all(f"/docs/{s}/openapi.json".encode() in body for s in SERVICES)
    r.check("the /docs page lists the four documents", status == 200 and lists, f"status {status}")

    # 2. Prefix semantics match the Ingress (pathType Prefix: whole path segments only).
    for path in ("/api/v1/productsX", "/api/v1/cart", "/api/v1", "/webhooks/stripes", "/nope", "/js/", "/.git/config"):
        Stub.hits.clear()
        status, _, p = reached(gw, "GET", path)
        r.check(f"GET {path} is not routed (404)", status == 404 and not Stub.hits and "error" in p, f"status {status}, hits {Stub.hits}")

    # 2b. The storefront (storefront/) at /, with types a browser runs, and its config.
    for path, ctype in (("/", "text/html"), ("/checkout.html", "text/html"), ("/js/api.js", "text/javascript"), ("/css/store.css", "text/css")):
        Stub.hits.clear()
        status, headers, body = gw.request("GET", path)
        got = headers.get("content-type", "")
        r.check(f"GET {path} serves the storefront ({ctype})", status == 200 and got.startswith(ctype) and body and not Stub.hits, f"status {status}, {got}")
    status, _, p = reached(gw, "GET", "/storefront-config.json")
    r.check(
        "GET /storefront-config.json names the Stripe API base and a publishable key",
        status == 200 and p.get("stripe_api_base", "").startswith("http") and p.get("publishable_key", "").startswith("pk_test_"),
        f"status {status}, {p}",
    )

    # 3. /health is the gateway's own answer.
    Stub.hits.clear()
    status, _, p = reached(gw, "GET", "/health")
    r.check("GET /health answered by the gateway", status == 200 and p.get("service") == "gateway" and not Stub.hits, f"{status} {p} {Stub.hits}")

    # 4. /internal/v1 is never routed, also not through a dot-dot path.
    for path in ("/internal/v1/reservations", "/internal", "/api/v1/products/../../../internal/v1/reservations"):
        Stub.hits.clear()
        status, _, _ = reached(gw, "POST", path, body=b"{}")
        r.check(f"POST {path} is not routed (404)", status == 404 and not Stub.hits, f"status {status}, hits {Stub.hits}")

    # 5. Security headers on proxied answers and on the gateway's own.
    for path in ("/api/v1/products", "/health", "/internal/v1/x", "/"):
        _, headers, _ = reached(gw, "GET", path)
        missing = {k: headers.get(k.lower()) for k, v in SECURITY_HEADERS.items() if headers.get(k.lower()) != v}
        r.check(f"security headers on GET {path}", not missing, f"wrong or missing: {missing}")

    # 6. Forwarded headers, request id and trace context reach the service.
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    status, _, p = reached(
        gw,
        "GET",
        "/api/v1/products?page=2",
        headers={"Host": "shop.test", "traceparent": trace, "tracestate": "vendor=1", "X-Request-ID": "req-123"},
    )
    h = p.get("headers", {})
    expect = {
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-proto": "http",
        "x-forwarded-host": "shop.test",
        "x-forwarded-port": str(gw.port),
        "x-real-ip": "127.0.0.1",
        "x-request-id": "req-123",
        "traceparent": trace,
        "tracestate": "vendor=1",
        "host": "shop.test",
    }
    wrong = {k: h.get(k) for k, v in expect.items() if h.get(k) != v}
    r.check("X-Forwarded-*, X-Request-ID, traceparent and tracestate reach the service", status == 200 and not wrong, f"wrong: {wrong}")
    _, _, p = reached(gw, "GET", "/api/v1/carts", headers={"Host": "shop.test:8443"})
    got = p.get("headers", {}).get("x-forwarded-host")
    r.check("X-Forwarded-Host keeps the port the client used (absolute links)", got == "shop.test:8443", repr(got))
    r.check("a request id is made when the caller sends none", len(p.get("headers", {}).get("x-request-id", "")) >= 16, str(p.get("headers")))

    # 7. Body limits: 256 KiB for the API, 1 MiB for the webhook; refused as JSON 413.
    for path, size, want in (
        ("/api/v1/carts", 200 * 1024, 200),
        ("/api/v1/carts", 300 * 1024, 413),
        ("/api/v1/checkout", 300 * 1024, 413),
        ("/webhooks/stripe", 900 * 1024, 200),
        ("/webhooks/stripe", 1100 * 1024, 413),
    ):
        Stub.hits.clear()
        try:
            status, _, p = reached(gw, "POST", path, body=b"x" * size, headers={"Content-Type": "application/json"})
        except (ConnectionError, http.client.HTTPException) as e:  # NGINX may close before reading it all
            status, p = -1, {"exception": repr(e)}
        ok = status == want and (bool(Stub.hits) == (want == 200)) and (want == 200 or p.get("error") == "Payload Too Large")
        r.check(f"POST {path} with {size // 1024} KiB -> {want}", ok, f"status {status}, body {p}, hits {len(Stub.hits)}")

    # 8. Checkout is rate limited like the Ingress (10 r/s, burst 50): 200 quick requests
    #    from 8 threads outrun it; the 429s are JSON and never reach the service.
    from concurrent.futures import ThreadPoolExecutor

    Stub.hits.clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: reached(gw, "POST", "/api/v1/checkout", body=b"{}"), range(200)))
    limited = [p for status, _, p in answers if status == 429]
    passed = sum(1 for status, _, _ in answers if status == 200)
    r.check(
        "checkout rate limit: 429 past the burst, the rest reach order",
        limited and passed >= 50 and len(Stub.hits) == passed,
        f"{passed}x200, {len(limited)}x429, {len(Stub.hits)} reached order",
    )
    r.check("a 429 is JSON", bool(limited) and all(p.get("error") == "Too Many Requests" for p in limited), str(limited[:1]))

def main() -> int:
    print("gateway test: deploy/nginx through NGINX to stub services")
    stubs = {s: start_stub(s) for s in SERVICES}
    r = Results()
    gw = None
    try:
        gw = Gateway(stubs)
        run(gw, r)
    except Exception as e:  # noqa: BLE001 - any setup failure is a failed check, reported plainly
        r.check("gateway starts and answers", False, repr(e))
    finally:
        if gw is not None:
            gw.stop()
            r.check("nginx stopped", gw.proc is None or gw.proc.poll() is not None)
        for s in stubs.values():
            s.shutdown()
            s.server_close()
    print(f"gateway: {r.passed} passed, {r.failed} failed")
    return 0 if r.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
