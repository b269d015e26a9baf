"""Public tracking limits guesses: 10 failed lookups per client address in 10 minutes, counted in the
database, then 429 with a readable message until the window has passed (the injected clock moves)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.clock import ManualClock
from app.models import RateLimitHit
from app.services.context import ServiceContext

from .portal_helpers import EN, new_applicant, submit_food, text, token


def lookup(client: FlaskClient, case_no: str, secret: str, ip: str = "203.0.113.7", **kwargs: Any) -> Any:
    data = {"case_no": case_no, "secret": secret, "csrf_token": token(client, "/track")}
    return client.post("/track", data=data, environ_base={"REMOTE_ADDR": ip}, **kwargs)


def hits(ctx: ServiceContext) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(RateLimitHit)) or 0)


def test_ten_failures_then_429_until_the_window_passes(app: Flask, demo: ServiceContext, clock: ManualClock) -> None:
    case_no = submit_food(new_applicant(app.test_client(), "zhang"))
    guesser = app.test_client()
    assert lookup(guesser, case_no, "13912345678").status_code == 200  # a success is not counted
    for n in range(10):
        assert lookup(guesser, case_no, f"{n:06d}").status_code == 404
        clock.advance(timedelta(seconds=30))
    limited = lookup(guesser, case_no, "13912345678")  # even the right answer: no lookup is made
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    body = text(limited)
    assert "查询失败次数过多" in body and "track-result" not in body and "食品经营许可" not in body
    assert "Too many unsuccessful lookups" in text(lookup(guesser, case_no, "000000", headers=EN))
    # another address is not affected
    assert lookup(app.test_client(), case_no, "13912345678", ip="198.51.100.2").status_code == 200
    # the first failure leaves the window after 10 minutes: one more attempt, and old rows are pruned
    clock.advance(timedelta(minutes=10) - timedelta(seconds=30 * 10) + timedelta(seconds=1))
    assert lookup(guesser, case_no, "999999").status_code == 404
    assert lookup(guesser, case_no, "999998").status_code == 429
    clock.advance(timedelta(minutes=11))
    assert lookup(guesser, case_no, "13912345678").status_code == 200
    assert lookup(guesser, case_no, "999997").status_code == 404
    assert hits(demo) == 1  # every older row was pruned
