"""Limits hold under concurrency (PostgreSQL, many threads at once): of 60 simultaneous wrong guesses
exactly the limit is evaluated, the rest get 429 without a lookup or a password check."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.clock import ManualClock
from app.services.demo import load_demo
from tests.conftest import build_app, wipe

from .portal_helpers import new_applicant, submit_food
from .signin import csrf_token

N = 60
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(pg_url: str, clock: ManualClock) -> Iterator[Flask]:
    app = build_app(pg_url, clock)
    load_demo(app.extensions["banjian"])
    try:
        yield app
    finally:
        wipe(app)


def all_at_once(app: Flask, page: str, send: Callable[[FlaskClient, str, int], int]) -> Counter[int]:
    """N clients, each with its form's CSRF token already fetched, post at the same moment."""
    clients = [app.test_client() for _ in range(N)]
    tokens = [csrf_token(client, page) for client in clients]
    start = threading.Barrier(N)

    def one(n: int) -> int:
        start.wait()
        return send(clients[n], tokens[n], n)

    with ThreadPoolExecutor(N) as pool:
        return Counter(pool.map(one, range(N)))


def test_sixty_concurrent_tracking_guesses_evaluate_exactly_ten(pg_app: Flask) -> None:
    case_no = submit_food(new_applicant(pg_app.test_client(), "zhang"))

    def guess(client: FlaskClient, token: str, n: int) -> int:
        return client.post("/track", data={"case_no": case_no, "secret": f"{n:06d}", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "203.0.113.60"}).status_code

    assert all_at_once(pg_app, "/track", guess) == Counter({404: 10, 429: N - 10})


def test_sixty_concurrent_wrong_passwords_check_exactly_five(pg_app: Flask) -> None:
    def guess(client: FlaskClient, token: str, n: int) -> int:
        data = {"username": "market_clerk", "password": f"guess-{n}", "csrf_token": token}
        return client.post("/login", data=data, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code

    assert all_at_once(pg_app, "/login", guess) == Counter({401: 5, 429: N - 5})
