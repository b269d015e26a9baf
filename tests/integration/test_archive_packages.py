"""Archive packages (电子档案): built once per closed case even with two schedulers racing, resumable after
a builder is killed, and holding what the archive needs (metadata, materials, notices, event log, BPMN),
each member's SHA-256 in the manifest (SQLite file and PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.jobs.ticks import JOBS, run_job
from app.models import (
    ArchivePackage,
    Case,
    CaseEvent,
    CaseFile,
    Incident,
    Item,
    Notice,
    ProcessDefinition,
    User,
)
from app.services.archive import builder
from app.services.archive.package import check_zip
from app.services.documents.files import FileStore

CLOSED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"archive test bytes"


@pytest.fixture
def app(shared_app: Flask) -> Flask:
    """A database two schedulers really share (in-memory SQLite is one connection's)."""
    return shared_app


def close_cases(app: Flask, n: int, *, type_code: str | None = None, open_task: bool = False) -> list[str]:
    """`n` closed cases, each with a material, a decision notice and events, on a deployed process."""
    ctx = app.extensions["banjian"]
    stored = FileStore(ctx.upload_dir).put(io.BytesIO(PNG))
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = s.scalars(select(Item).order_by(Item.id)).first()
        assert item is not None
        if type_code:
            item.type_code = type_code
        process = s.scalars(select(ProcessDefinition).where(ProcessDefinition.key == item.process_key)).first()
        company = s.scalars(select(User).where(User.username == "company")).one()
        numbers = []
        for i in range(n):
            case = Case(case_no=f"AR{i:06d}", item=item, applicant=company, status="issued", application={"x": i},
                        process_definition=process, received_at=CLOSED - timedelta(days=5), decided_at=CLOSED,
                        closed_at=CLOSED, created_at=CLOSED, updated_at=CLOSED)
            s.add(case)
            s.flush()
            s.add(CaseFile(case_id=case.id, material="营业执照", filename="licence.png", content_type="image/png",
                           size=stored.size, sha256=stored.sha256, uploaded_by_id=company.id, uploaded_at=CLOSED))
            s.add(Notice(case_id=case.id, kind="decision", number=f"JD-AR{i:06d}", content={"result": "准予许可"},
                         issued_at=CLOSED))
            s.add(CaseEvent(case_id=case.id, at=CLOSED, actor_id=company.id, action="submit", message="提交申请"))
            s.add(CaseEvent(case_id=case.id, at=CLOSED, action="status", data_after={"status": "issued"}))
            numbers.append(case.case_no)
        uow.commit()
    return numbers


def packages(app: Flask) -> list[ArchivePackage]:
    with app.extensions["banjian"].uow() as uow:
        rows = list(uow.session.scalars(select(ArchivePackage).order_by(ArchivePackage.case_id)))
        uow.session.expunge_all()  # plain values for the assertions, not expired by the rollback
        return rows


def test_the_scheduler_job_builds_each_closed_case_once(app, clock):
    """(Two scheduler processes racing: test_archive_race.py.)"""
    cases = close_cases(app, 3)
    ctx = app.extensions["banjian"]
    [job] = [j for j in JOBS if j.id == "archive"]
    assert run_job(app, job) == len(cases)
    assert run_job(app, job) == 0  # nothing more to do
    rows = packages(app)
    assert len(rows) == len(cases) and {p.state for p in rows} == {"built"} and {p.attempts for p in rows} == {1}
    root = builder.archive_dir(ctx)
    for p in rows:
        assert hashlib.sha256((root / str(p.path)).read_bytes()).hexdigest() == p.sha256


def test_the_package_holds_metadata_materials_notices_events_and_bpmn(app):
    [case_no] = close_cases(app, 1, type_code="01")
    ctx = app.extensions["banjian"]
    assert builder.run_archive(ctx).built == 1
    [package] = packages(app)
    path = builder.archive_dir(ctx) / str(package.path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))["files"]
        assert set(manifest) == names - {"manifest.json"}
        for name, entry in manifest.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == entry["sha256"]
        meta = json.loads(zf.read("metadata.json"))
        events = json.loads(zf.read("events.json"))
        bpmn = [n for n in names if n.startswith("process/") and n.endswith(".bpmn")]
        assert len(bpmn) == 1 and b"bpmn" in zf.read(bpmn[0])
        material = [n for n in names if n.startswith("materials/")]
        assert len(material) == 1 and zf.read(material[0]) == PNG
        assert json.loads(zf.read("notices/JD-AR000000.json"))["content"] == {"result": "准予许可"}
    assert meta["case"]["case_no"] == case_no and meta["result"]["status"] == "issued"
    assert meta["applicant"]["username"] == "company" and meta["department"]["code"]
    assert meta["item"]["code"] and meta["process"]["version"] >= 1
    assert meta["dates"]["closed_at"].startswith("2026-11-20")
    assert meta["retention_years"] == 30 == package.retention_years  # a licence: 30 years
    assert package.retention_until == CLOSED.replace(year=2056)
    assert [e["action"] for e in events] == ["submit", "status"]
    assert check_zip(path, package.sha256).intact


def test_a_build_killed_midway_is_resumed_after_the_lease(app, clock):
    [case_no] = close_cases(app, 1)
    ctx = app.extensions["banjian"]
    builder.queue_closed_cases(ctx, clock.now())
    claimed = builder._claim(ctx, clock.now(), set())  # a builder claims, writes half a file and dies
    assert claimed is not None
    root = builder.archive_dir(ctx)
    root.mkdir(parents=True, exist_ok=True)
    leftover = root / f"{builder.TEMP_PREFIX}{case_no}-{claimed[1]}.zip"
    leftover.write_bytes(b"PK\x03\x04 half a zip")
    assert builder.run_archive(ctx).built == 0  # still within the lease: nobody else touches it
    [package] = packages(app)
    assert package.state == "building"
    clock.advance(builder.LEASE + timedelta(seconds=1))
    assert builder.run_archive(ctx).built == 1
    [package] = packages(app)
    assert (package.state, package.attempts) == ("built", 2)
    assert not leftover.exists() and sorted(p.name for p in root.iterdir()) == [f"{case_no}.zip"]
    assert check_zip(root / str(package.path), package.sha256).intact
    # the dead builder's token no longer counts: it cannot record a result over the new one
    assert builder.build_claimed(ctx, package.id, claimed[1], clock.now()) is False


def test_a_failing_case_is_isolated_and_retried(app, clock):
    good, bad = close_cases(app, 2)
    ctx = app.extensions["banjian"]
    with ctx.uow(write=True) as uow:  # the bad case's material bytes are gone
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == bad))
        uow.session.add(CaseFile(case_id=case_id, material="身份证", filename="id.png", content_type="image/png",
                                 size=1, sha256="0" * 64, uploaded_by_id=1, uploaded_at=CLOSED))
        uow.commit()
    result = builder.run_archive(ctx)
    assert (result.built, result.failed) == (1, 1)
    states = {p.case_id: p.state for p in packages(app)}
    assert sorted(states.values()) == ["built", "failed"]
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Incident).where(Incident.case_id == case_id)) == 1
    assert builder.run_archive(ctx).failed == 0  # not retried before an hour has passed
    clock.advance(timedelta(hours=1, seconds=1))
    assert builder.run_archive(ctx).failed == 1


def test_retention_lists_packages_for_disposal_and_never_deletes_them(app, clock):
    close_cases(app, 1, type_code="20")
    ctx = app.extensions["banjian"]
    builder.run_archive(ctx)
    [package] = packages(app)
    assert package.retention_years == 10 and package.disposal_listed_at is None  # not a licence: 10 years
    later = package.retention_until + timedelta(days=1)
    assert builder.run_archive(ctx, now=later).listed_for_disposal == 1
    [package] = packages(app)
    assert package.disposal_listed_at == later and package.state == "built"
    assert (builder.archive_dir(ctx) / str(package.path)).exists()  # listed, never deleted


def test_a_case_still_open_gets_no_package(app):
    [case_no] = close_cases(app, 1)
    ctx = app.extensions["banjian"]
    with ctx.uow(write=True) as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        case.status, case.closed_at = "in_review", None
        uow.commit()
    assert builder.run_archive(ctx).queued == 0 and packages(app) == []


def test_the_file_clean_up_leaves_packages_alone(app, clock):
    close_cases(app, 1)
    ctx = app.extensions["banjian"]
    builder.run_archive(ctx)
    [package] = packages(app)
    path = builder.archive_dir(ctx) / str(package.path)
    clock.advance(timedelta(days=400))
    [job] = [j for j in JOBS if j.id == "files"]
    run_job(app, job)
    assert path.exists() and check_zip(path, package.sha256).intact
