"""The file clean-up job (documents.cleanup): drafts unchanged for DRAFT_DAYS natural days are deleted,
and stored bytes no record refers to are removed once older than the grace period, never those a
record uses, never young ones, and never bytes an upload of the same content is recording meanwhile."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.clock import ManualClock
from app.jobs.ticks import JOBS, run_job
from app.models import CaseFile, User
from app.services import portal
from app.services.context import ServiceContext
from app.services.documents import cleanup
from app.services.documents.cleanup import CleanupResult, clean_up
from app.services.identity.principal import Principal
from tests.web.portal_helpers import (
    FOOD,
    FOOD_FORM,
    new_applicant,
    pdf_bytes,
    post,
    resident_id,
    submit_food,
    text,
    upload,
)

MULTI = {"content_type": "multipart/form-data"}
DAY = timedelta(days=1)


def stored(ctx: ServiceContext, content: bytes) -> Path:
    sha = hashlib.sha256(content).hexdigest()
    return Path(ctx.upload_dir) / sha[:2] / sha


def save_draft(client: FlaskClient, content: bytes, name: str = "a.pdf") -> str:
    """A new draft of the food licence with one file; returns its page."""
    resp = post(client, f"/items/{FOOD}/apply", {**FOOD_FORM, "material-0": [upload(content, name)]}, **MULTI)
    assert resp.status_code == 302, text(resp)
    return resp.headers["Location"]


def delete(client: FlaskClient, draft: str) -> None:
    assert post(client, f"{draft}/delete", {}, form_page=draft).status_code == 302


def run(ctx: ServiceContext) -> CleanupResult:
    return clean_up(ctx, draft_days=30, grace_hours=24)


def missing_bytes(ctx: ServiceContext) -> list[str]:
    """File records whose bytes are not in the store."""
    with ctx.uow() as uow:
        hashes = set(uow.session.scalars(select(CaseFile.sha256)))
    return sorted(h for h in hashes if not (Path(ctx.upload_dir) / h[:2] / h).is_file())


@pytest.fixture
def me(app: Flask, demo: ServiceContext) -> FlaskClient:
    return new_applicant(app.test_client(), "zhang")


def test_bytes_of_a_deleted_draft_stay_until_the_job_removes_them_after_the_grace(
        demo: ServiceContext, me: FlaskClient, clock: ManualClock) -> None:
    orphan, young, used = pdf_bytes("old orphan"), pdf_bytes("young orphan"), pdf_bytes("on a draft")
    delete(me, save_draft(me, orphan))
    save_draft(me, used)
    assert stored(demo, orphan).is_file()  # no inline discard any more
    clock.advance(timedelta(hours=23))
    delete(me, save_draft(me, young))
    assert run(demo).files_removed == 0  # the first orphan is 23 h old
    clock.advance(timedelta(hours=2))
    assert run(demo) == CleanupResult(drafts_expired=0, files_removed=1)
    assert not stored(demo, orphan).exists()
    assert stored(demo, young).is_file() and stored(demo, used).is_file()


def test_bytes_a_case_shares_with_a_deleted_draft_are_kept(
        demo: ServiceContext, me: FlaskClient, clock: ManualClock) -> None:
    submit_food(me)  # m0.pdf .. m5.pdf now belong to a case
    delete(me, save_draft(me, pdf_bytes("m0"), "again.pdf"))
    clock.advance(2 * DAY)
    assert run(demo).files_removed == 0
    assert stored(demo, pdf_bytes("m0")).is_file() and missing_bytes(demo) == []


def test_a_draft_expires_after_the_configured_days_and_its_bytes_go_with_it(
        demo: ServiceContext, me: FlaskClient, clock: ManualClock) -> None:
    content = pdf_bytes("forgotten")
    save_draft(me, content)
    applicant = _principal(demo, "zhang")
    [listed] = portal.list_drafts(demo, applicant, 30)
    assert listed["expires_at"] == clock.now() + 30 * DAY
    clock.advance(30 * DAY - timedelta(minutes=1))
    assert run(demo).drafts_expired == 0 and stored(demo, content).is_file()
    clock.advance(timedelta(minutes=2))
    assert run(demo) == CleanupResult(drafts_expired=1, files_removed=1)
    assert portal.list_drafts(demo, applicant) == [] and _count(demo, CaseFile) == 0
    assert not stored(demo, content).exists()


def test_one_file_that_cannot_be_removed_does_not_stop_the_others(
        demo: ServiceContext, me: FlaskClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    stuck, other = pdf_bytes("stuck"), pdf_bytes("other")
    delete(me, save_draft(me, stuck))
    delete(me, save_draft(me, other))
    clock.advance(2 * DAY)
    real = cleanup._move_aside

    def refuse_stuck(path: Path, aside: Path) -> None:
        if path == stored(demo, stuck):
            raise PermissionError(path)
        real(path, aside)

    monkeypatch.setattr(cleanup, "_move_aside", refuse_stuck)
    assert run(demo) == CleanupResult(drafts_expired=0, files_removed=1, failures=1)
    assert stored(demo, stuck).is_file() and not stored(demo, other).exists()
    monkeypatch.setattr(cleanup, "_move_aside", real)
    assert run(demo).files_removed == 1  # the next run tries it again


def _racing(before_move: bool) -> Callable[..., None]:
    """`_move_aside` that lets another applicant upload the same bytes just before or just after the
    job moves the orphan aside, the two moments where a record could end up pointing at nothing."""
    real = cleanup._move_aside

    def move(path: Path, aside: Path) -> None:
        if before_move:
            RACE["upload"]()
        real(path, aside)
        if not before_move:
            RACE["upload"]()
    return move


RACE: dict[str, Callable[[], None]] = {}


@pytest.mark.parametrize("before_move", [True, False], ids=["upload-before-move", "upload-after-move"])
def test_an_upload_of_the_same_bytes_while_the_job_runs_never_loses_them(
        app: Flask, demo: ServiceContext, me: FlaskClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
        before_move: bool) -> None:
    content = pdf_bytes("shared content")
    delete(me, save_draft(me, content))
    clock.advance(2 * DAY)  # an old orphan: the job will take it
    other = new_applicant(app.test_client(), "lisi", number=resident_id(seq="124"))
    drafts: list[str] = []
    RACE["upload"] = lambda: drafts.append(save_draft(other, content, "mine.pdf"))
    monkeypatch.setattr(cleanup, "_move_aside", _racing(before_move))
    assert run(demo).files_removed == 0
    assert len(drafts) == 1 and missing_bytes(demo) == []
    resp = other.get(_file_url(other, drafts[0]))
    assert resp.status_code == 200 and resp.get_data() == content
    resp.close()
    monkeypatch.undo()
    clock.advance(2 * DAY)
    assert run(demo).files_removed == 0 and missing_bytes(demo) == []  # still recorded: kept for good


def test_leftovers_of_killed_uploads_are_removed(demo: ServiceContext, clock: ManualClock) -> None:
    root = Path(demo.upload_dir)
    root.mkdir(parents=True, exist_ok=True)
    leftover = root / ".upload-killed"
    leftover.write_bytes(b"half a file")
    old = (clock.now() - 2 * DAY).timestamp()
    os.utime(leftover, (old, old))
    run(demo)
    assert not leftover.exists()


def _file_url(client: FlaskClient, draft: str) -> str:
    page = text(client.get(draft))
    return "/files/" + page.split('href="/files/', 1)[1].split('"', 1)[0].split("?", 1)[0]


def _principal(ctx: ServiceContext, username: str) -> Principal:
    with ctx.uow() as uow:
        return Principal.of(uow.session.scalar(select(User).where(User.username == username)))


def _count(ctx: ServiceContext, model: type) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)



def test_the_scheduler_runs_the_job_hourly_with_the_settings(
        app: Flask, demo: ServiceContext, me: FlaskClient, clock: ManualClock) -> None:
    [job] = [j for j in JOBS if j.id == "files"]
    assert job.interval(app) == 3600.0
    content = pdf_bytes("left behind")
    delete(me, save_draft(me, content))
    clock.advance(timedelta(hours=app.config["FILE_GRACE_HOURS"] + 1))
    assert run_job(app, job) == 1 and not stored(demo, content).exists()
