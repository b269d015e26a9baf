"""Server time of the staff pages at scale: 100 000 cases, 20 000 open tasks.

    .venv/bin/python benchmarks/web.py [--quick] [--pg URL | --pg ''] [--pg-schema NAME]

Seeds the projections directly (bulk inserts: cases, open tasks with candidates, event log) around the
demo data, plus a few real cases driven through the services so the task and case pages have real
workflow state; then times each inbox view, the task page and the case page through Flask's test client
(server time, no network). Target: inbox p95 <= 50 ms on SQLite and PostgreSQL. Prints a table; exit 0.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text  # noqa: E402

from app.clock import ManualClock  # noqa: E402
from app.models import Case, CaseEvent, HumanTask, Item, TaskCandidate, User  # noqa: E402
from app.services.demo import load_demo  # noqa: E402
from benchmarks.pgschema import fresh_schema_url  # noqa: E402
from tests.conftest import build_app  # noqa: E402
from tests.e2e import flows  # noqa: E402

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
GROUPS = ["market.clerk", "market.approver", "market.head", "housing.clerk", "housing.approver", "fire.approver",
          "health.approver", "planning.approver", "service_center.clerk"]
VIEWS = ["mine", "group", "due_soon", "overdue", "done"]
BATCH = 5000


def seed(ctx: Any, cases: int, open_tasks: int) -> None:
    """Bulk rows shaped like real ones; only the projections and the log, no engine state."""
    rng = random.Random(42)
    with ctx.uow(write=True) as uow:
        s = uow.session
        items = list(s.scalars(select(Item.id)))
        applicants = list(s.scalars(select(User.id).where(User.role == "applicant")))
        staff = {u.username: u.id for u in s.scalars(select(User).where(User.role != "applicant"))}
        uow.commit()
    actor_ids = list(staff.values())
    for start in range(0, cases, BATCH):
        rows, events, tasks, candidates = [], [], [], []
        for n in range(start, min(start + BATCH, cases)):
            received = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 120))
            is_open = n < open_tasks
            rows.append({"id": 1_000_000 + n, "case_no": f"BM{n:012d}", "item_id": rng.choice(items),
                         "applicant_id": rng.choice(applicants), "status": "in_review" if is_open else "issued",
                         "stage": "review" if is_open else None, "application": {}, "version": 1,
                         "received_at": received, "created_at": received, "updated_at": received,
                         "closed_at": None if is_open else received + timedelta(days=5)})
            for k in range(2):
                events.append({"case_id": 1_000_000 + n, "at": received + timedelta(hours=k + 1),
                               "actor_id": rng.choice(actor_ids), "action": "completed",
                               "task_id": f"seed-{n}-{k}", "task_key": "preview" if k == 0 else "acceptance",
                               "task_name": "预审" if k == 0 else "受理"})
            if is_open:
                group = GROUPS[n % len(GROUPS)]
                tid = f"seed-task-{n:08d}"
                claimed = rng.random() < 0.3
                due = received + timedelta(days=rng.randint(1, 20))
                tasks.append({"id": tid, "case_id": 1_000_000 + n, "item_id": rows[-1]["item_id"],
                              "task_key": "review", "name": "审查", "stage": "review", "form_key": "review.form",
                              "department": group.split(".")[0], "candidate_groups": [group], "candidate_users": [],
                              "assignee_id": rng.choice(actor_ids) if claimed else None,
                              "claimed_at": received if claimed else None, "created_at": received,
                              # as a clock writes them: the default 80 % threshold's yellow moment
                              "due_at": due, "yellow_at": received + (due - received) * 0.8})
                candidates.append({"task_id": tid, "kind": "group", "name": group})
        with ctx.uow(write=True) as uow:
            s = uow.session
            s.execute(insert(Case.__table__), rows)
            s.execute(insert(CaseEvent.__table__), events)
            if tasks:
                s.execute(insert(HumanTask.__table__), tasks)
                s.execute(insert(TaskCandidate.__table__), candidates)
            uow.commit()
    if ctx.db.is_postgres:  # what autovacuum gives a live database: statistics and a visibility map
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def sign_in(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    resp = client.post("/login", data={"username": username, "password": "demo1234",
                                       "csrf_token": token.group(1) if token else ""})
    assert resp.status_code in (302, 303), resp.status_code


def timed(client: Any, url: str, n: int) -> list[float]:
    client.get(url)  # warm
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        resp = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def run(label: str, url: str, cases: int, open_tasks: int, n: int) -> None:
    clock = ManualClock(NOW)
    app = build_app(url, clock)
    ctx = app.extensions["banjian"]
    load_demo(ctx)
    api_client = app.test_client()
    from tests.conftest import Api

    api = Api(api_client)
    real = flows.food_to_review(api)  # a real case with engine state, open at "review"
    t0 = time.perf_counter()
    seed(ctx, cases, open_tasks)
    print(f"[{label}] seeded {cases} cases, {open_tasks} open tasks in {time.perf_counter() - t0:.1f} s")
    client = app.test_client()
    sign_in(client, "market_approver")
    task_id = flows.task_id(api, real, "review")
    print(f"  {'page':38} {'median':>8} {'p95':>8}  (ms, server time)")
    for view in VIEWS:
        xs = timed(client, f"/staff/inbox?view={view}", n)
        verdict = "PASS" if p95(xs) <= 50 else "FAIL"
        print(f"  inbox view={view:28} {statistics.median(xs):8.2f} {p95(xs):8.2f}  target p95 <= 50  {verdict}")
    for name, q in (("inbox search by case number", "BM00000123"),  # finds none: 14-character numbers
                    ("inbox search, number start: 100 cases", "BM0000000123"),
                    ("inbox search, applicant: 1/3 of cases", "李娜")):
        xs = timed(client, f"/staff/inbox?view=group&q={q}", n)
        print(f"  {name:38} {statistics.median(xs):8.2f} {p95(xs):8.2f}")
    for name, page in (("task page", f"/staff/tasks/{task_id}"), ("case page", f"/staff/cases/{real}")):
        xs = timed(client, page, n)
        print(f"  {name:38} {statistics.median(xs):8.2f} {p95(xs):8.2f}")
    ctx.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 000 cases, 2 000 open tasks, fewer requests")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-schema", default="webbench", help="dropped and recreated: one of the run's own")
    args = parser.parse_args()
    cases, open_tasks, n = (10_000, 2_000, 20) if args.quick else (100_000, 20_000, 60)
    tmp = Path(tempfile.mkdtemp(prefix="banjian-web-bench-"))
    run("SQLite", f"sqlite:///{tmp / 'web.sqlite3'}", cases, open_tasks, n)
    if args.pg and (url := fresh_schema_url(args.pg, args.pg_schema)):
        run("PostgreSQL", url, cases, open_tasks, n)

if __name__ == "__main__":
    main()
