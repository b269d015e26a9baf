"""Time of one scheduler tick over case clocks: it must follow the number due, not the number open.

    .venv/bin/python benchmarks/sweep.py [--quick] [--pg URL | --pg ''] [--pg-schema NAME]

Seeds open cases each with a running decision clock (bulk rows, no engine state), `DUE` of them due now
(turning yellow), then times one `sweep_clocks` tick at 10 000 and at 100 000 open cases on SQLite and
PostgreSQL. Target: <= 1 s for 1 000 due at 100 000 open. Prints a table; exit 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text  # noqa: E402

from app.clock import ManualClock  # noqa: E402
from app.models import Case, CaseClock, Item, User  # noqa: E402
from app.services.demo import load_demo  # noqa: E402
from app.services.timelimits.clock_sweep import sweep_clocks  # noqa: E402
from benchmarks.pgschema import fresh_schema_url  # noqa: E402
from tests.conftest import build_app  # noqa: E402

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
BATCH = 5000
DUE = 1000


def seed(ctx: Any, open_cases: int, due: int) -> None:
    started = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    with ctx.uow() as uow:
        item_id = uow.session.scalar(select(Item.id).limit(1))
        user_id = uow.session.scalar(select(User.id).where(User.username == "company"))
    for start in range(0, open_cases, BATCH):
        cases, clocks = [], []
        for n in range(start, min(start + BATCH, open_cases)):
            case_id = 1_000_000 + n
            cases.append({"id": case_id, "case_no": f"SW{n:012d}", "item_id": item_id, "applicant_id": user_id,
                          "status": "in_review", "application": {}, "version": 1, "received_at": started,
                          "accepted_at": started, "created_at": started, "updated_at": started})
            # The first `due` clocks turn yellow before NOW; the rest next year.
            check = NOW - timedelta(minutes=n % 600) if n < due else NOW + timedelta(days=30 + n % 90)
            clocks.append({"case_id": case_id, "kind": "decision", "name": "", "started_at": started,
                           "limit_value": 10, "unit": "wd", "extended_by": 0, "suspended_days": 0,
                           "deadline": NOW + timedelta(days=5), "provisional": False, "state": "running",
                           "level": "green", "yellow_ratio": 0.8, "yellow_days": 1, "next_check_at": check,
                           "generation": 0, "department": "market"})
        with ctx.uow(write=True) as uow:
            uow.session.execute(insert(Case.__table__), cases)
            uow.session.execute(insert(CaseClock.__table__), clocks)
            uow.commit()


def run(label: str, url: str, open_cases: int) -> float:
    app = build_app(url, ManualClock(NOW))
    ctx = app.extensions["banjian"]
    load_demo(ctx)
    seed(ctx, open_cases, DUE)
    if ctx.db.is_postgres:
        with ctx.db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    ctx.calendar.get()  # a running scheduler has its calendar loaded already
    t0 = time.perf_counter()
    result = sweep_clocks(ctx)
    elapsed = time.perf_counter() - t0
    assert result.checked == DUE and result.alarms == DUE, result
    again = time.perf_counter()
    assert sweep_clocks(ctx).checked == 0
    idle = time.perf_counter() - again
    verdict = "PASS" if elapsed <= 1.0 or open_cases < 100_000 else "FAIL"
    print(f"  {label:11} {open_cases:>8} open {DUE:>6} due   tick {elapsed * 1000:8.1f} ms   "
          f"idle tick {idle * 1000:6.1f} ms   {verdict if open_cases >= 100_000 else ''}")
    ctx.db.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 000 and 10 000 open cases")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-schema", default="sweepbench", help="dropped and recreated: one of the run's own")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    print("one scheduler tick over case clocks (target: <= 1 s for 1 000 due at 100 000 open)")
    tmp = Path(tempfile.mkdtemp(prefix="banjian-sweep-bench-"))
    for size in sizes:
        run("SQLite", f"sqlite:///{tmp / f'sweep{size}.sqlite3'}", size)
    if not args.pg:
        return
    for size in sizes:
        url = fresh_schema_url(args.pg, args.pg_schema)
        if url is None:
            return
        run("PostgreSQL", url, size)

if __name__ == "__main__":
    main()
