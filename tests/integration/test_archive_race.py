"""Archive packages built by scheduler PROCESSES: two racing over the same closed cases build each package
exactly once, and a builder killed (SIGKILL) in the middle of a package leaves nothing that counts; a
later run completes it once the dead builder's lease has passed.

Each worker is a fresh app on the test's database and upload directory running the scheduler's `archive`
job (`app.jobs.ticks.JOBS`) on an injected clock; racing workers start together (each says "ready" and
waits for "go" on its stdin). Run as a worker:

    python -m tests.integration.test_archive_race DB_URL UPLOAD_DIR NOW_ISO [--die-mid-build N]

prints one JSON line {"built": n}. With --die-mid-build N it writes half of its N-th package (counting
from 1) and kills itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import Incident
from app.services.archive import builder, catalogue
from app.services.archive.package import check_zip
from app.services.identity.principal import Principal
from tests.integration.test_archive_packages import close_cases, packages

ROOT = Path(__file__).resolve().parents[2]
CASES = 24


def _worker(app: Flask, now: datetime, *extra: str) -> list[str]:
    ctx = app.extensions["banjian"]
    return [sys.executable, "-m", "tests.integration.test_archive_race", ctx.db.url, str(ctx.upload_dir),
            now.isoformat(), *extra]


def _spawn(app: Flask, now: datetime, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(_worker(app, now, *extra), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run(procs: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    """Wait until every worker is ready (app built), then let them all go at once."""
    try:
        for proc in procs:
            assert proc.stdout is not None
            ready = proc.stdout.readline().strip()
            assert ready == "ready", (ready, proc.stderr.read() if proc.stderr else "")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def _incidents(app: Flask) -> int:
    with app.extensions["banjian"].uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Incident)) or 0)


def test_two_scheduler_processes_build_each_package_exactly_once(shared_app, clock):
    cases = close_cases(shared_app, CASES)
    outputs = _run([_spawn(shared_app, clock.now()) for _ in range(2)])
    assert all("Traceback" not in err for _, err in outputs), outputs
    built = [json.loads(out)["built"] for out, _ in outputs]
    assert sum(built) == CASES, built  # each package recorded by exactly one of them
    rows = packages(shared_app)
    assert len(rows) == CASES and {p.state for p in rows} == {"built"}
    assert {p.attempts for p in rows} == {1}  # nobody claimed a package the other held
    root = builder.archive_dir(shared_app.extensions["banjian"])
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{c}.zip" for c in cases)  # no temp file left
    for p in rows:
        assert check_zip(root / str(p.path), p.sha256).intact  # the recorded hash is the file's
    assert _incidents(shared_app) == 0


def test_a_builder_killed_mid_package_leaves_nothing_that_counts_and_a_later_run_completes_it(shared_app, clock):
    first, killed, third = close_cases(shared_app, 3)
    ctx = shared_app.extensions["banjian"]
    [(_, err)] = _run([_spawn(shared_app, clock.now(), "--die-mid-build", "2")])
    by_case = {p.path or "": p for p in packages(shared_app)}
    assert f"{first}.zip" in by_case  # built before the kill
    root = builder.archive_dir(ctx)
    assert not (root / f"{killed}.zip").exists()  # half a package is never in place...
    assert [p.name for p in root.glob(f"{builder.TEMP_PREFIX}{killed}-*")], err  # ...only under a temp name
    archivist = Principal(0, "archivist", "档案员", "archivist", frozenset({"archivist"}), frozenset(), None)
    with pytest.raises(catalogue.PackageNotFound):  # ...and nothing counts it as built
        catalogue.check(ctx, archivist, killed)
    with pytest.raises(catalogue.PackageNotFound):
        catalogue.package_file(ctx, archivist, killed)

    [(out, _)] = _run([_spawn(shared_app, clock.now())])  # within the dead builder's lease
    assert json.loads(out)["built"] == 1  # the third case; the killed one waits for its lease
    assert not (root / f"{killed}.zip").exists()

    later = clock.advance(builder.LEASE + timedelta(seconds=1))
    [(out, _)] = _run([_spawn(shared_app, later)])
    assert json.loads(out)["built"] == 1
    rows = {p.path: p for p in packages(shared_app)}
    resumed = rows[f"{killed}.zip"]
    assert (resumed.state, resumed.attempts) == ("built", 2)
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{c}.zip" for c in (first, killed, third))
    assert catalogue.check(ctx, archivist, killed).intact
    assert _incidents(shared_app) == 0


def main(argv: list[str]) -> int:
    from app import create_app
    from app.clock import ManualClock
    from app.jobs.ticks import JOBS, run_job
    from app.services.archive import package
    from tests.conftest import make_config

    url, upload_dir, now = argv[0], Path(argv[1]), datetime.fromisoformat(argv[2])
    app = create_app(make_config(url, UPLOAD_DIR=upload_dir), clock=ManualClock(now))
    if "--die-mid-build" in argv:
        _die_mid_build(int(argv[argv.index("--die-mid-build") + 1]), package.write_zip)
    [job] = [j for j in JOBS if j.id == "archive"]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    print(json.dumps({"built": run_job(app, job)}), flush=True)
    return 0


def _die_mid_build(nth: int, write_zip):  # type: ignore[no-untyped-def]
    """The builder's `write_zip`, which on its `nth` call writes half the package and dies (SIGKILL)."""
    calls = [0]

    def write_then_die(target: Path, entries, stamp):  # type: ignore[no-untyped-def]
        calls[0] += 1
        write_zip(target, entries, stamp)
        if calls[0] == nth:
            whole = target.read_bytes()
            target.write_bytes(whole[: len(whole) // 2])
            os.kill(os.getpid(), signal.SIGKILL)

    builder.write_zip = write_then_die  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
