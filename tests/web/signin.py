"""Signing in through the login form, as a person does: the page's CSRF token, then the post."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "demo1234"  # every demo account's


def csrf_token(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> str:
    page = client.get(path, headers=headers or {})
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD,
            headers: dict[str, str] | None = None) -> FlaskClient:
    resp = client.post("/login", headers=headers or {}, data={
        "username": username, "password": password, "csrf_token": csrf_token(client, "/login", headers)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client
