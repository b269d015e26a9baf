"""好差评 indicators over a year at 100 000 ratings: each answer must stay under 200 ms (p95).

    .venv/bin/python benchmarks/ratings.py [--ratings N] [--runs N] [--pg URL] [--pg-schema NAME] [--no-sqlite]

Seeds, on SQLite (a file database) and PostgreSQL (a schema of its own), the demo data, three service
windows and N services rated over 2026 (one rating request and one first rating each: a tenth defaulted,
half of those 未评; a third at a window, anonymous; one in fifty followed up), a rectification for each bad
rating (valid, mistaken or malicious; some called back, some rectified) and a year of supervision orders
on one case; then prints the p50/p95 server time of each `/api/v1/statistics/ratings` and
`/statistics/performance` answer for the year and of the public results page, through the test client.
A report, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402

from app.clock import ManualClock  # noqa: E402
from app.models import (  # noqa: E402
    Item,
    Rating,
    RatingRequest,
    Rectification,
    ServiceWindow,
    User,
)
from app.services.demo import load_demo  # noqa: E402
from benchmarks.pgschema import fresh_schema_url  # noqa: E402
from tests.conftest import build_app  # noqa: E402

NOW = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
TARGET_MS = 200.0
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
QUERIES = (
    ("ratings, per month", "/api/v1/statistics/ratings", {}),
    ("ratings, per day", "/api/v1/statistics/ratings", {"period": "day"}),
    ("ratings by department", "/api/v1/statistics/ratings", {"by": "department"}),
    ("ratings by item", "/api/v1/statistics/ratings", {"by": "item", "period": "year"}),
    ("ratings by window", "/api/v1/statistics/ratings", {"by": "window"}),
    ("ratings by officer", "/api/v1/statistics/ratings", {"by": "officer", "period": "year"}),
    ("ratings of one department, per day", "/api/v1/statistics/ratings", {"department": "market", "period": "day"}),
    ("performance by department", "/api/v1/statistics/performance", {}),
    ("public page, a year", "/public/ratings", {"year": "2026", "month": "all"}),
)
BATCH = 5000


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm caches and plans once
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]


def _services(n: int, items: list[tuple[int, int]], windows: list[int], officers: list[int],
              rater: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(request, [first rating, follow-up?]) per service, spread over 2026 in China office hours."""
    start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    for g in range(1, n + 1):
        at = start + timedelta(days=g % 364, hours=g % 8, minutes=g % 60)
        at_window = g % 3 == 0
        defaulted = g % 10 == 0
        level = (None if g % 20 == 0 else 4) if defaulted else (5, 5, 5, 5, 4, 4, 3, 2, 1)[g % 10 - 1]
        item_id, department_id = items[g % len(items)]
        where = {"item_id": item_id, "department_id": department_id, "officer_id": officers[g % len(officers)],
                 "window_id": windows[g % len(windows)] if at_window else None,
                 "channel": "window" if at_window else "online"}
        request = {"id": g, "channel": where["channel"], "served_at": at - timedelta(hours=1), "remind_at": None,
                   "expires_at": at + timedelta(days=7), "state": "expired" if defaulted else "rated"}
        rated_by = None if at_window or defaulted else rater
        ratings = [{"id": g * 2, "request_id": g, "seq": 1, "kind": "defaulted" if defaulted else "rating",
                    "level": level, "rated_by_id": rated_by, "rated_at": at, "dimensions": {}, "reasons": [],
                    "comment": "", **where}]
        if g % 50 == 1 and not defaulted and not at_window:
            ratings.append({"id": g * 2 + 1, "request_id": g, "seq": 2, "kind": "follow_up", "level": 2,
                            "follow_up_of_id": g * 2, "rated_by_id": rated_by, "rated_at": at + timedelta(days=1),
                            "dimensions": {}, "reasons": ["other"], "comment": "", **where})
        yield request, ratings


def seed(ctx: Any, n: int) -> None:
    with ctx.uow(write=True) as uow:
        s = uow.session
        items = [(i, d) for i, d in s.execute(select(Item.id, Item.department_id).order_by(Item.id))]
        for k in range(3):
            s.add(ServiceWindow(code=f"BW{k}", name=f"基准窗口{k}", department_id=items[k % len(items)][1],
                                active=True, created_at=NOW))
        uow.commit()
        windows = list(s.scalars(select(ServiceWindow.id)))
        officers = list(s.scalars(select(User.id).where(User.role.in_(("clerk", "approver")))))
        rater = s.scalar(select(User.id).where(User.username == "company"))
    requests: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    rects: list[dict[str, Any]] = []
    with ctx.db.engine.begin() as conn:
        for request, rated in _services(n, items, windows, officers, rater):
            requests.append(request)
            ratings.extend(rated)
            for r in rated:
                if r["level"] in (1, 2) and r["kind"] != "defaulted":
                    k = r["id"]
                    rects.append({"rating_id": k, "department_id": r["department_id"], "opened_at": r["rated_at"],
                                  "state": "closed" if k % 3 else "open", "classification_reason": "",
                                  "classification": ("valid", "valid", "valid", "mistaken", "malicious", None)[k % 6],
                                  "called_back_at": r["rated_at"] + timedelta(hours=4) if k % 4 else None,
                                  "callback_outcome": "", "rectification": "",
                                  "rectified_at": r["rated_at"] + timedelta(days=3) if k % 3 else None})
            if len(requests) >= BATCH:
                _flush(conn, requests, ratings, rects)
        _flush(conn, requests, ratings, rects)


def _flush(conn: Any, requests: list[dict[str, Any]], ratings: list[dict[str, Any]],
           rects: list[dict[str, Any]]) -> None:
    for table, rows in ((RatingRequest, requests), (Rating, [r for r in ratings if r["seq"] == 1]),
                        (Rating, [r for r in ratings if r["seq"] == 2]), (Rectification, rects)):
        if rows:
            keys = set().union(*rows)
            conn.execute(insert(table.__table__), [{k: r.get(k) for k in keys} for r in rows])
    for rows in (requests, ratings, rects):
        rows.clear()


def run(name: str, url: str, n: int, runs: int) -> None:
    app = build_app(url, ManualClock(NOW))
    ctx = app.extensions["banjian"]
    load_demo(ctx)
    start = time.perf_counter()
    seed(ctx, n)
    with ctx.uow() as uow:
        count = uow.session.scalar(select(func.count()).select_from(Rating))
    print(f"\n[{name}] seeded {n:,} services ({count:,} ratings) in {time.perf_counter() - start:.1f} s")
    if ctx.db.is_postgres:
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE ratings, rating_requests, rectifications"))
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "supervisor", "password": "demo1234"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def ask(path: str, args: dict[str, str]) -> Callable[[], Any]:
        def call() -> Any:
            query = args if path.startswith("/public") else {**YEAR, **args}
            resp = client.get(path, query_string=query, headers=headers)
            assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
            return resp

        return call

    totals = ask("/api/v1/statistics/ratings", {})().get_json()["totals"]
    print(f"a year's totals: services {totals['services']:,}, good-rating rate {totals['good_rate']}, "
          f"unrated rate {totals['unrated_rate']}, rectification rate {totals['rectification_rate']}")
    print(f"{'query (a year, ' + name + ')':40} {'p50 ms':>8} {'p95 ms':>8}  target p95 <= {TARGET_MS:.0f} ms")

    def count() -> Any:  # how fast this machine is right now: the plainest scan of the same rows
        with ctx.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Rating).where(
                Rating.rated_at >= datetime(2025, 12, 31, 16, tzinfo=UTC),
                Rating.rated_at < datetime(2026, 12, 31, 16, tzinfo=UTC))).scalar()

    p50, p95 = timed(count, runs)
    print(f"{'baseline: count(*) of the year':40} {p50:8.1f} {p95:8.1f}")
    for label, path, args in QUERIES:
        p50, p95 = timed(ask(path, args), runs)
        print(f"{label:40} {p50:8.1f} {p95:8.1f}  {'ok' if p95 <= TARGET_MS else 'OVER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-schema", default="bench_ratings")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            run("SQLite", f"sqlite:///{folder}/ratings.sqlite3", args.ratings, args.runs)
    url = fresh_schema_url(args.pg, args.pg_schema) if args.pg else None
    if url is not None:
        run("PostgreSQL", url, args.ratings, args.runs)


if __name__ == "__main__":
    main()
