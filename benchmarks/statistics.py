"""Statistics over a year at 1 000 000 cases: the rollup answers must stay under 200 ms (p95) on PostgreSQL.

    .venv/bin/python benchmarks/statistics.py [--cases N] [--runs N] [--pg URL] [--pg-schema NAME]

Seeds (PostgreSQL generate_series, no engine state) 40 items over the demo departments, 60 window clerks
and N cases received over 2026: a third at a window, each with its event log (created, accepted, a
correction notice for one in seven, decided, then issued / refused / withdrawn, about 8 % still open) and
a decision clock, late for one in twenty; then fills the rollups with `rollups.rebuild` (timed) and times
each `/api/v1/statistics/...` answer for the year through the test client (server time, `--runs` runs,
p50/p95). The baseline is the naive answer: the same monthly workload counted straight from the event
log. A report, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import ManualClock  # noqa: E402
from app.models import User  # noqa: E402
from app.services.demo import load_demo  # noqa: E402
from app.services.statistics import rollups  # noqa: E402
from benchmarks.pgschema import fresh_schema_url  # noqa: E402
from tests.conftest import build_app, make_config  # noqa: E402

NOW = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)  # after the last seeded event (+10 days)
TARGET_MS = 200.0
ROLLUPS = tuple(t.__tablename__ for t in (*rollups.DAILY, *rollups.MONTHLY))
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
QUERIES = (
    ("workload, per month", "/statistics/workload", {}),
    ("workload, per day", "/statistics/workload", {"period": "day"}),
    ("workload by department", "/statistics/workload", {"by": "department"}),
    ("workload by item", "/statistics/workload", {"by": "item"}),
    ("workload by officer", "/statistics/workload", {"by": "officer", "period": "year"}),
    ("workload by window", "/statistics/workload", {"by": "window"}),
    ("workload by item, 15 Jan - 20 Nov", "/statistics/workload", {"by": "item", "from": "2026-01-15",
                                                                   "to": "2026-11-20"}),
    ("workload by channel, one item", "/statistics/workload", {"by": "channel", "item": "BM-ITEM-07"}),
    ("times by item", "/statistics/times", {"by": "item"}),
    ("times, window only", "/statistics/times", {"channel": "window"}),
    ("times by officer", "/statistics/times", {"by": "officer"}),
    ("times per day", "/statistics/times", {"period": "day"}),
    ("backlog by item", "/statistics/backlog", {"by": "item"}),
    ("backlog by channel", "/statistics/backlog", {"by": "channel"}),
)

SEED_SQL = (
    # Items: copies of the demo's first item over its departments.
    """INSERT INTO items (code, name, type_code, department_id, legal_basis, case_kind, statutory_limit,
           promised_limit, limit_unit, joint, departments, materials, fees, process_key, form_key, case_prefix,
           guide, active, updated_at)
       SELECT 'BM-ITEM-' || lpad(g::text, 2, '0'), '基准事项 ' || g, i.type_code,
              (SELECT id FROM departments ORDER BY id OFFSET (g % (SELECT count(*) FROM departments)) LIMIT 1),
              '', i.case_kind, i.statutory_limit, i.promised_limit, i.limit_unit, false, '[]', '[]', i.fees,
              i.process_key, NULL, 'BM', '{}', true, :now
       FROM generate_series(0, 39) g, (SELECT * FROM items ORDER BY id LIMIT 1) i""",
    """INSERT INTO users (username, password_hash, full_name, staff_no, role, department_id, active,
           session_version, must_change_password, created_at)
       SELECT 'bm_clerk_' || g, 'x', '基准窗口' || g, 'BM' || g, 'clerk',
              (SELECT id FROM departments ORDER BY id LIMIT 1), true, 0, false, :now
       FROM generate_series(0, 59) g""",
    # Cases: received over 2026 (09:00-17:00 Beijing), 8 % open, the rest closed by their final event.
    """CREATE TEMP TABLE bm AS
       SELECT g AS n,
              timestamptz '2026-01-01 01:00+00' + ((g % 364) || ' days')::interval + ((g % 8) || ' hours')::interval AS rcv,
              (g % 3 = 0) AS at_window, (g % 7 = 0) AS corrected, (g % 100 < 8) AS open,
              CASE WHEN g % 100 >= 95 THEN 'withdrawn' WHEN g % 100 >= 85 THEN 'refused' ELSE 'issued' END AS outcome,
              (g % 20 = 0) AS late
       FROM generate_series(1, :cases) g""",
    """INSERT INTO cases (id, case_no, item_id, applicant_id, status, application, version, received_at, accepted_at,
           decided_at, closed_at, created_at, updated_at, channel)
       SELECT 10000000 + n, 'BM' || lpad(n::text, 10, '0'),
              (SELECT id FROM items WHERE code = 'BM-ITEM-' || lpad((n % 40)::text, 2, '0')), :applicant,
              CASE WHEN open THEN 'in_review' ELSE outcome END, '{}', 1, rcv,
              CASE WHEN outcome <> 'withdrawn' THEN rcv + interval '2 days' END,
              CASE WHEN outcome = 'issued' AND NOT open THEN rcv + interval '9 days' END,
              CASE WHEN NOT open THEN rcv + interval '10 days' END, rcv, rcv,
              CASE WHEN at_window THEN 'window' ELSE 'online' END
       FROM bm""",
    """INSERT INTO case_events (case_id, at, actor_id, action, message)
       SELECT 10000000 + n, rcv, CASE WHEN at_window THEN (SELECT min(id) FROM users WHERE username LIKE 'bm_clerk_%') + n % 60
              ELSE :applicant END, 'created', NULL FROM bm""",
    """INSERT INTO case_events (case_id, at, actor_id, action, data_before, data_after)
       SELECT 10000000 + n, rcv + interval '1 hour', NULL, 'status', '{"status": "submitted"}', '{"status": "correction"}'
       FROM bm WHERE corrected""",
    """INSERT INTO case_events (case_id, at, actor_id, action, data_before, data_after)
       SELECT 10000000 + n, rcv + interval '2 days', (SELECT min(id) FROM users WHERE username LIKE 'bm_clerk_%') + n % 60,
              'status', '{"status": "submitted"}', '{"status": "accepted"}'
       FROM bm WHERE outcome <> 'withdrawn'""",
    """INSERT INTO case_events (case_id, at, actor_id, action, data_before, data_after)
       SELECT 10000000 + n, rcv + interval '9 days', NULL, 'status', '{"status": "in_review"}', '{"status": "decided"}'
       FROM bm WHERE outcome = 'issued' AND NOT open""",
    """INSERT INTO case_events (case_id, at, actor_id, action, data_before, data_after)
       SELECT 10000000 + n, rcv + interval '10 days', (SELECT min(id) FROM users WHERE username LIKE 'bm_clerk_%') + n % 60,
              'status', '{"status": "decided"}', jsonb_build_object('status', outcome)
       FROM bm WHERE NOT open""",
    """INSERT INTO case_clocks (case_id, kind, name, started_at, limit_value, unit, extended_by, suspended_days,
           provisional, state, level, yellow_ratio, yellow_days, generation, on_time)
       SELECT 10000000 + n, 'decision', '', rcv, 20, 'wd', 0, 0, false, CASE WHEN open THEN 'running' ELSE 'stopped' END,
              'green', 0.8, 1, 0, CASE WHEN open THEN NULL ELSE NOT late END
       FROM bm""",
    "ANALYZE items, users, cases, case_events, case_clocks",  # these tables only: others share the database
)

NAIVE = """SELECT to_char(e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
       count(*) FILTER (WHERE e.action = 'created') AS received,
       count(*) FILTER (WHERE e.data_after->>'status' = 'accepted') AS accepted,
       count(*) FILTER (WHERE e.data_after->>'status' IN ('issued', 'closed', 'refused')) AS finished,
       count(*) FILTER (WHERE e.data_after->>'status' = 'withdrawn') AS withdrawn,
       count(*) FILTER (WHERE e.data_after->>'status' = 'correction') AS corrections
FROM case_events e
WHERE e.at >= '2025-12-31 16:00+00' AND e.at < '2026-12-31 16:00+00'
GROUP BY 1 ORDER BY 1"""


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm caches and plans once
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]


def seed(ctx: Any, cases: int) -> None:
    with ctx.uow() as uow:
        applicant = uow.session.scalar(select(User.id).where(User.username == "company"))
    with ctx.db.engine.begin() as conn:
        for sql in SEED_SQL:
            conn.execute(text(sql), {"now": NOW, "cases": cases, "applicant": applicant})


def run(url: str, cases: int, runs: int, reuse: bool) -> None:
    clock = ManualClock(NOW)
    if reuse:  # time the queries again on what an earlier run seeded (seeding 1 000 000 takes minutes)
        app = create_app(make_config(url), clock=clock)
        ctx = app.extensions["banjian"]
    else:
        app = build_app(url, clock)
        ctx = app.extensions["banjian"]
        load_demo(ctx)
        start = time.perf_counter()
        seed(ctx, cases)
        print(f"seeded {cases:,} cases with their events and clocks in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        read = rollups.rebuild(ctx)
        print(f"rollups.rebuild: {read:,} cases in {time.perf_counter() - start:.1f} s")
    # What autovacuum does in production: statistics for the planner, the visibility map for index-only scans.
    with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM ANALYZE cases, case_events, {', '.join(ROLLUPS)}"))
    with ctx.db.engine.begin() as conn:
        sizes = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("case_events", *ROLLUPS)}
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "supervisor", "password": "demo1234"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def ask(path: str, args: dict[str, str]) -> Callable[[], Any]:
        def call() -> Any:
            resp = client.get(f"/api/v1{path}", query_string={**YEAR, **args}, headers=headers)
            assert resp.status_code == 200, resp.get_json()
            return resp

        return call

    total = ask("/statistics/workload", {})().get_json()["totals"]
    print(f"a year's totals: received {total['received']:,}, finished {total['finished']:,}, "
          f"on-time rate {total['on_time_rate']}")

    def naive() -> Any:
        with ctx.db.engine.connect() as conn:
            return conn.execute(text(NAIVE)).all()

    p50, p95 = timed(naive, max(3, runs // 10))
    print(f"\n{'query (a year, PostgreSQL)':40} {'p50 ms':>8} {'p95 ms':>8}  target p95 <= {TARGET_MS:.0f} ms")
    print(f"{'baseline: naive recount from the log':40} {p50:8.1f} {p95:8.1f}")
    for label, path, args in QUERIES:
        p50, p95 = timed(ask(path, args), runs)
        print(f"{label:40} {p50:8.1f} {p95:8.1f}  {'ok' if p95 <= TARGET_MS else 'OVER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-schema", default="bench_statistics")
    parser.add_argument("--reuse", action="store_true", help="keep the schema an earlier run seeded; time only")
    args = parser.parse_args()
    if args.reuse:
        sep = "&" if "?" in args.pg else "?"
        url: str | None = f"{args.pg}{sep}options=-csearch_path%3D{args.pg_schema}"
    else:
        url = fresh_schema_url(args.pg, args.pg_schema) if args.pg else None
    if url is None:
        print("PostgreSQL is needed for this benchmark (generate_series seeding).")
        return
    run(url, args.cases, args.runs, args.reuse)


if __name__ == "__main__":
    main()
