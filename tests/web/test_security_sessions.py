"""Signing out ends the session on the server: a copy of the old cookie, and API tokens issued before,
no longer open anything. The token endpoint answers a missing password in both languages."""

from __future__ import annotations

from flask import Flask

from .signin import csrf_token, sign_in


def test_a_kept_cookie_no_longer_opens_the_inbox_after_signing_out(app: Flask, demo: object) -> None:
    client = sign_in(app.test_client(), "market_clerk")
    assert client.get("/staff/inbox").status_code == 200
    old = client.get_cookie("session")
    assert old is not None
    resp = client.post("/logout", data={"csrf_token": csrf_token(client, "/staff/inbox")})
    assert resp.status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", old.value)
    again = thief.get("/staff/inbox")
    assert again.status_code == 302 and "/login" in again.headers["Location"]
    # signing in again works, with a new session
    assert sign_in(app.test_client(), "market_clerk").get("/staff/inbox").status_code == 200


def test_signing_out_also_revokes_api_tokens(app: Flask, demo: object) -> None:
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json={"username": "market_clerk", "password": "demo1234"}).get_json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert api.get("/api/v1/tasks", headers=bearer).status_code == 200
    client = sign_in(app.test_client(), "market_clerk")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff/inbox")})
    revoked = api.get("/api/v1/tasks", headers=bearer)
    assert revoked.status_code == 401 and "令牌无效" in revoked.get_json()["errors"][0]["message"]


def test_token_without_a_password_is_answered_in_both_languages(app: Flask, demo: object) -> None:
    resp = app.test_client().post("/api/v1/auth/token", json={"username": "market_clerk"})
    assert resp.status_code == 400
    assert resp.get_json()["errors"] == [{"field": "password", "message": "必填，1-256 个字符 / required, 1-256 characters"}]
    odd = app.test_client().post("/api/v1/auth/token", json=["market_clerk"])
    assert odd.status_code == 400 and " / " in odd.get_json()["errors"][0]["message"]
