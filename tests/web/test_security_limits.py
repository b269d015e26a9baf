"""Guessing limits, one mechanism (a `limits` moving window over the database): failed sign-ins per
account and per client address (page and API), refused registrations per address, tracking guesses
per address behind trusted proxies; unknown user names cost the same hash check as known ones."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.clock import ManualClock
from app.services.identity.users import create_user
from tests.conftest import build_app, wipe

from .portal_helpers import KNOWN_ID, new_applicant, register, resident_id, submit_food, text
from .signin import csrf_token

ALICE = "203.0.113.20"


def login(client: FlaskClient, username: str, password: str, ip: str = ALICE) -> Any:
    data = {"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip})


def token(client: FlaskClient, username: str, password: str, ip: str = ALICE) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_five_wrong_passwords_lock_the_account_for_a_while(app: Flask, demo: object, clock: ManualClock) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, "market_clerk", "wrong-password").status_code == 401
    limited = login(client, "market_clerk", "demo1234")  # even the right password is not checked
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "尝试次数过多，请等待 15 分钟后再试" in text(limited)
    api = token(client, "market_clerk", "demo1234", ip="198.51.100.30")  # from anywhere, also the API
    assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0
    assert "该账号登录失败次数过多" in api.get_json()["errors"][0]["message"]
    assert login(app.test_client(), "market_approver", "demo1234").status_code == 302  # others are not
    clock.advance(timedelta(minutes=15, seconds=1))
    assert login(app.test_client(), "market_clerk", "demo1234").status_code == 302


def test_twenty_failures_from_one_address_stop_it_trying_other_accounts(app: Flask, demo: object) -> None:
    client = app.test_client()
    for n in range(20):
        assert token(client, f"nobody{n}", "demo1234").status_code == 401
    limited = token(client, "market_clerk", "demo1234")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert token(client, "market_clerk", "demo1234", ip="198.51.100.31").status_code == 200


def test_unknown_user_names_take_as_long_as_known_ones(db_url: str, clock: ManualClock) -> None:
    app = build_app(db_url, clock, PASSWORD_HASH_METHOD="pbkdf2:sha256:200000")
    try:
        create_user(app.extensions["banjian"], "known", "secret-pass-1", "clerk")
        client = app.test_client()

        def seconds(username: str, n: int) -> float:
            started = time.perf_counter()
            assert token(client, username, "wrong-password", ip=f"192.0.2.{n}").status_code == 401
            return time.perf_counter() - started

        token(client, "known", "warm-up", ip="192.0.2.200")
        known = statistics.median(seconds("known", n) for n in range(4))
        unknown = statistics.median(seconds(f"ghost{n}", 10 + n) for n in range(4))
        assert unknown > known * 0.6, (known, unknown)
    finally:
        wipe(app)


def test_refused_registrations_are_limited_per_address(app: Flask) -> None:
    first = app.test_client()
    assert register(first, "first", number=KNOWN_ID).status_code == 302  # a success is not counted
    prober = app.test_client()
    for n in range(10):
        assert register(prober, f"probe{n}", number=KNOWN_ID).status_code == 422
    limited = register(prober, "honest", number=resident_id(seq="456"))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "尝试次数过多" in text(limited)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.40"
    assert register(elsewhere, "honest", number=resident_id(seq="456")).status_code == 302


def lookup(client: FlaskClient, case_no: str, secret: str, **environ: str) -> int:
    data = {"case_no": case_no, "secret": secret, "csrf_token": csrf_token(client, "/track")}
    return client.post("/track", data=data, environ_base=environ).status_code


def test_tracking_counts_the_client_behind_a_trusted_proxy(db_url: str, clock: ManualClock) -> None:
    from app.services.demo import load_demo

    app = build_app(db_url, clock, TRUSTED_PROXIES=1)
    try:
        load_demo(app.extensions["banjian"])
        case_no = submit_food(new_applicant(app.test_client(), "zhang"))
        proxy = {"REMOTE_ADDR": "10.0.0.1"}
        guesser = app.test_client()
        for n in range(10):
            assert lookup(guesser, case_no, f"{n:06d}", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7") == 404
        assert lookup(guesser, case_no, "000000", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7") == 429
        # a neighbour behind the same proxy is another client
        assert lookup(app.test_client(), case_no, "13912345678", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.8") == 200
    finally:
        wipe(app)


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(app: Flask, demo: object) -> None:
    case_no = submit_food(new_applicant(app.test_client(), "zhang"))
    guesser = app.test_client()
    for n in range(10):
        assert lookup(guesser, case_no, f"{n:06d}", REMOTE_ADDR="203.0.113.50",
                      HTTP_X_FORWARDED_FOR=f"192.0.2.{n}") == 404
    assert lookup(guesser, case_no, "000000", REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR="192.0.2.99") == 429
