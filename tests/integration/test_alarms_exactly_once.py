"""Every due alarm fires once however many scheduler processes race, and a scheduler killed mid-tick
loses nothing (real processes, real databases)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from app.models import Alarm, Case, CaseClock, Item, User
from tests.conftest import demo_app

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)




def seed_due_clocks(app: Flask, n: int, per_case: int = 10) -> None:
    """`n` step clocks, all turning yellow before NOW (started 9 of 10 working days ago)."""
    ctx = app.extensions["banjian"]
    started = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    with ctx.uow(write=True) as uow:
        s = uow.session
        item_id = s.scalar(select(Item.id).limit(1))
        user_id = s.scalar(select(User.id).where(User.username == "company"))
        cases = n // per_case
        s.execute(insert(Case.__table__), [
            {"case_no": f"RACE{i:08d}", "item_id": item_id, "applicant_id": user_id, "status": "in_review",
             "application": {}, "version": 1, "created_at": started, "updated_at": started, "received_at": started}
            for i in range(cases)])
        ids = s.scalars(select(Case.id).where(Case.case_no.like("RACE%")).order_by(Case.id)).all()
        s.execute(insert(CaseClock.__table__), [
            {"case_id": ids[i % cases], "kind": "step", "name": f"step {i}", "started_at": started, "limit_value": 10,
             "unit": "wd", "extended_by": 0, "suspended_days": 0, "deadline": NOW + timedelta(days=5),
             "provisional": False, "state": "running", "level": "green", "yellow_ratio": 0.8, "yellow_days": 1,
             "next_check_at": NOW - timedelta(minutes=i % 60), "generation": 0} for i in range(n)])
        uow.commit()


def run(url: str, *flags: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tests.integration.sweep_worker", url, NOW.isoformat(), *flags]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def outcome(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def alarm_counts(app: Flask) -> tuple[int, int, int]:
    ctx = app.extensions["banjian"]
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(Alarm)) or 0
        distinct = s.scalar(select(func.count(func.distinct(Alarm.clock_id)))) or 0
        still_due = s.scalar(select(func.count()).select_from(CaseClock).where(CaseClock.next_check_at <= NOW)) or 0
    return total, distinct, still_due


@pytest.mark.slow
@pytest.mark.postgres
def test_three_schedulers_race_over_ten_thousand_due_alarms(pg_url: str, clock):
    """The PostgreSQL case: SKIP LOCKED hands each process its own rows (SQLite serializes writers)."""
    with demo_app(pg_url, clock) as app:
        seed_due_clocks(app, 10_000)
        procs = [run(pg_url) for _ in range(3)]
        results = [outcome(p) for p in procs]
        assert sum(r["checked"] for r in results) == 10_000  # no clock handled twice...
        assert sum(r["alarms"] for r in results) == 10_000
        assert alarm_counts(app) == (10_000, 10_000, 0)  # ...none missed, each alarm once
        assert sum(1 for r in results if r["checked"]) >= 2  # they really shared the work


def test_a_scheduler_killed_mid_tick_loses_nothing(shared_app: Flask, shared_url: str):
    seed_due_clocks(shared_app, 1_000)
    killed = run(shared_url, "--die-before-commit")
    killed.communicate(timeout=300)
    assert killed.returncode == -9
    assert alarm_counts(shared_app) == (0, 0, 1_000)  # the half-done batch rolled back
    assert outcome(run(shared_url))["alarms"] == 1_000  # the next tick catches up
    assert alarm_counts(shared_app) == (1_000, 1_000, 0)
