"""`flask scheduler run` in its own process against a SQLite file: it fires a due BPMN timer on its
first tick and stops cleanly on Ctrl+C. The process counts on the real clock, so the case is started
with an injected clock set two hours back; the test polls the database (a bounded loop) for the outcome."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.clock import ManualClock, SystemClock
from app.models import Case
from app.services.demo import load_demo
from tests.conftest import Api, build_app
from tests.integration.test_scheduler_isolation import timer_item

from .flows import apply

ROOT = Path(__file__).resolve().parents[2]
POLLS = 300  # at most about a minute at 0.2 s a poll


def test_the_scheduler_process_fires_a_due_timer_and_stops_on_interrupt(tmp_path):
    url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    app = build_app(url, ManualClock(SystemClock().now() - timedelta(hours=2)))
    ctx = app.extensions["banjian"]
    load_demo(ctx)
    case_no = apply(Api(app.test_client()), timer_item(Api(app.test_client()), "TR-1"), {})["case_no"]
    env = {**os.environ, "FLASK_APP": "wsgi", "BANJIAN_CONFIG": "production", "DATABASE_URL": url,
           "BANJIAN_INSTANCE_DIR": str(tmp_path), "BANJIAN_SCHEDULER_INTERVAL": "0.5",
           "SECRET_KEY": "a-test-only-secret-key-of-forty-characters"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "scheduler", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    status = None
    try:
        for _ in range(POLLS):
            with ctx.uow() as uow:
                status = uow.session.scalar(select(Case.status).where(Case.case_no == case_no))
            if status != "submitted":
                break
            try:
                proc.wait(timeout=0.2)  # the poll's pause; returns at once if the scheduler died
                break
            except subprocess.TimeoutExpired:
                pass
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # it ignored Ctrl+C: the assertion below says so
            proc.kill()
            output, _ = proc.communicate()
        ctx.db.dispose()
    assert status == "in_review", output
    assert proc.returncode == 0, output
    assert output.startswith("scheduler: ticking every 0.5 s"), output
