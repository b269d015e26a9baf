"""Security headers on every response, the session cookie's attributes, and the production settings
check: a page carries a Content-Security-Policy without inline script, downloads keep their sandbox."""

from __future__ import annotations

import os

import pytest
from flask import Flask

from app import SettingsError, create_app
from config import Config, DevConfig
from tests.conftest import build_app, make_config, wipe

from .signin import sign_in

FOOD = "420100-SCJG-001"


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.partition(" ")[2] for part in policy.split("; ")}


def test_pages_carry_a_policy_without_inline_script(app: Flask, demo: object) -> None:
    resp = app.test_client().get(f"/items/{FOOD}")
    assert resp.status_code == 200
    policy = directives(resp.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert (policy["object-src"], policy["base-uri"], policy["form-action"], policy["frame-ancestors"]) == (
        "'none'", "'self'", "'self'", "'self'")
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    body = resp.get_data(as_text=True)
    assert "<script>" not in body and "/static/js/guide.js" in body


def test_downloads_keep_their_sandbox_and_json_is_not_sniffed(app: Flask, demo: object) -> None:
    client = app.test_client()
    model = client.get(f"/items/{FOOD}/process.bpmn")
    assert model.status_code == 200
    assert model.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    api = client.get("/api/v1/items")
    assert api.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" not in api.headers


def test_session_cookie_is_samesite_lax(app: Flask, demo: object) -> None:
    client = sign_in(app.test_client(), "market_clerk")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.same_site == "Lax" and cookie.http_only and not cookie.secure


def test_secure_cookies_when_configured(db_url: str, clock: object) -> None:
    app = build_app(db_url, clock, SESSION_COOKIE_SECURE=True)  # type: ignore[arg-type]
    try:
        from app.services.demo import load_demo

        load_demo(app.extensions["banjian"])
        client = app.test_client()
        # a Secure cookie is only sent back over HTTPS: sign in through https://
        page = client.get("/login", base_url="https://localhost")
        token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        resp = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"}, data={
            "username": "market_clerk", "password": "demo1234", "csrf_token": token})
        assert resp.status_code == 302
        set_cookie = resp.headers["Set-Cookie"]
        assert "Secure" in set_cookie and "SameSite=Lax" in set_cookie and "HttpOnly" in set_cookie
    finally:
        wipe(app)


def test_production_secures_cookies_and_development_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    if "BANJIAN_SECURE_COOKIES" in os.environ:
        pytest.skip("BANJIAN_SECURE_COOKIES is set in this environment")
    assert (Config.SESSION_COOKIE_SECURE, DevConfig.SESSION_COOKIE_SECURE) == (True, False)
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.parametrize("key", ["dev-only-change-me", "", "short-but-not-empty"])
def test_production_refuses_a_default_or_short_secret_key(key: str) -> None:
    config = make_config("sqlite://", PRODUCTION=True, SECRET_KEY=key)
    with pytest.raises(SettingsError, match="SECRET_KEY") as caught:
        create_app(config)
    assert "\n" not in str(caught.value)


def test_production_starts_with_a_real_secret_key() -> None:
    create_app(make_config("sqlite://", PRODUCTION=True, SECRET_KEY="k" * 64))
