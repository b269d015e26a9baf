"""Two ratings of one visit sent at the same moment (two phones scanning one receipt), and two schedulers
closing the same rating windows: one rating counts, each window closes once. PostgreSQL and a SQLite file."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from app.models import Rating
from app.services.ratings.sweep import sweep_ratings
from tests.conftest import Api

WINDOW = {"efficiency": 5, "competence": 5, "attitude": 5}


def _together(n: int, work) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list = []

    def run(i: int) -> None:
        barrier.wait()
        results.append(work(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_ratings_of_one_visit_at_once_count_once(shared_app: Flask):
    api = Api(shared_app.test_client())
    assert api.put("/windows/W01", "admin", json={"name": "1号窗口", "clerks": ["center_clerk"]}).status_code == 200
    for _ in range(10):
        token = api.post("/visits", "center_clerk").get_json()["token"]
        statuses = _together(2, lambda i, token=token: shared_app.test_client().post(
            f"/api/v1/visits/{token}/ratings", json={"level": 5 - i, "dimensions": WINDOW}).status_code)
        assert sorted(statuses) == [201, 409]


def test_two_schedulers_close_each_window_once(shared_app: Flask, clock):
    api = Api(shared_app.test_client())
    assert api.put("/windows/W01", "admin", json={"name": "1号窗口", "clerks": ["center_clerk"]}).status_code == 200
    for _ in range(30):
        assert api.post("/visits", "center_clerk").status_code == 201
    clock.advance(timedelta(days=10))
    ctx = shared_app.extensions["banjian"]
    results = _together(2, lambda i: sweep_ratings(ctx, batch=7))
    assert sum(r.expired for r in results) == 30 and sum(r.failed for r in results) == 0
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Rating).where(Rating.kind == "defaulted")) == 30
