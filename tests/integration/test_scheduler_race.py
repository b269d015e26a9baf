"""Two scheduler processes race over the same due BPMN timers: every timer fires exactly once.

The workers run the scheduler's engine-timer job (`app.jobs.ticks.JOBS`) on the injected clock; both
start the job together (each waits for "go" on its stdin after saying "ready"). Run as a worker:

    python -m tests.integration.test_scheduler_race DB_URL NOW_ISO

prints one JSON line {"moved": n}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import CaseEvent, EngineTimer, Incident
from tests.conftest import Api
from tests.integration.test_scheduler_isolation import timer_item

CASES = 40
WORKERS = 2
ROOT = Path(__file__).resolve().parents[2]


def _worker(url: str, now: datetime) -> list[str]:
    return [sys.executable, "-m", "tests.integration.test_scheduler_race", url, now.isoformat()]


@pytest.mark.postgres
def test_two_schedulers_fire_every_due_timer_exactly_once(pg_url, clock):
    from tests.conftest import demo_app

    with demo_app(pg_url, clock) as app:
        api = Api(app.test_client())
        item = timer_item(api, "TX-1")
        for _ in range(CASES):
            resp = api.post("/cases", "company", json={"item_code": item, "data": {}})
            assert resp.status_code == 201, resp.get_json()
        now = clock.advance(timedelta(hours=2))
        procs = [subprocess.Popen(_worker(pg_url, now), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(WORKERS)]
        try:
            outputs = _start_together(procs)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
        assert [proc.returncode for proc in procs] == [0] * WORKERS, outputs
        moved = [json.loads(out)["moved"] for out, _ in outputs]
        ctx = app.extensions["banjian"]
        with ctx.uow() as uow:
            s = uow.session
            fired = s.execute(select(CaseEvent.case_id, func.count()).where(CaseEvent.message == "计时到")
                              .group_by(CaseEvent.case_id)).all()
            left = s.scalar(select(func.count()).select_from(EngineTimer))
            failures = s.scalar(select(func.count()).select_from(Incident))
    assert sum(moved) == CASES and all(moved), moved  # both took part
    assert len(fired) == CASES and {n for _, n in fired} == {1}
    assert (left, failures) == (0, 0)


def _start_together(procs: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    """Wait until every worker is ready (app built, engine warm), then let them all go."""
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return [proc.communicate(timeout=300) for proc in procs]


def main(argv: list[str]) -> int:
    from app import create_app
    from app.clock import ManualClock
    from app.jobs.ticks import JOBS, run_job
    from tests.conftest import make_config

    url, now = argv[0], datetime.fromisoformat(argv[1])
    app = create_app(make_config(url), clock=ManualClock(now))
    [job] = [j for j in JOBS if j.id == "engine_timers"]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    print(json.dumps({"moved": run_job(app, job)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
