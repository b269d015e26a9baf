"""HTTP hardening of every response: a Content-Security-Policy on pages, nosniff, a referrer policy;
and the client address as seen behind a configured number of reverse proxies."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

# Scripts and styles come only from /static (no inline <script>, no on...= handlers, no style=""), so
# an injected tag runs nothing; data: images and fonts are what bpmn-js draws its icons with.
PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
))


def init_headers(app: Flask) -> None:
    app.after_request(_secure_headers)


def init_proxies(app: Flask, trusted: int) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from `trusted` proxies (0: none; the address is the peer's)."""
    if trusted > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)  # type: ignore[method-assign]


def _secure_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")  # case numbers in URLs stay on this site
    # A download that set its own (stricter, sandboxing) policy keeps it.
    if response.mimetype == "text/html" and "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = PAGE_POLICY
    return response
