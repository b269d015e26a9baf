"""The scheduler's archive job: build each closed case's package exactly once, resumably.

1. Queue: closed cases without a package get a `pending` row (insert-or-ignore on the unique `case_id`,
   so two schedulers queue a case once).
2. Claim, one short transaction per package: a `pending` row, a `building` row whose claim is older than
   `LEASE` (its builder died), or a `failed` one after `RETRY_AFTER_FAILURE`; `FOR UPDATE SKIP LOCKED` on
   PostgreSQL, SQLite's write lock elsewhere. The row becomes `building` with a fresh claim token.
3. Build outside any transaction: the zip is written to a temporary name in the archive directory.
4. Record, in one transaction: re-lock the row, check the token is still ours, rename the file into place
   (atomic) and store its hash. A builder killed before 4 leaves a `building` row (and perhaps a temp
   file) that a tick after the lease takes over; the rebuild writes the same bytes (members carry the
   case's closing time), so a rename that happened just before a kill is harmless.

A case whose package fails (a material's bytes gone, a disk error) gets an incident and a `failed` row
that is retried after an hour; the other cases go on.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import FINAL_STATUSES, ArchivePackage, Case, EngineTimer, HumanTask
from app.services.casework.timers import RETRY_AFTER_FAILURE, add_job_incident
from app.services.claims import claimable
from app.services.context import ServiceContext
from app.services.documents.files import FileStore

from . import contents, documents
from .package import file_sha256, write_zip

LEASE = timedelta(minutes=30)  # longer than any build; a `building` row older than this lost its builder
QUEUE_BATCH = 200
TEMP_PREFIX = ".building-"
log = logging.getLogger(__name__)


def archive_dir(ctx: ServiceContext) -> Path:
    """instance/uploads/archive by default: outside the web root, on the volume that is backed up with the
    materials. The file clean-up never looks in it (it sweeps only the two-letter hash folders and its
    own temporary names at the top of the upload directory)."""
    return ctx.upload_dir / "archive"


@dataclass
class BuildResult:
    queued: int = 0
    built: int = 0
    failed: int = 0
    listed_for_disposal: int = 0


def run_archive(ctx: ServiceContext, now: datetime | None = None, limit: int = 500) -> BuildResult:
    """Queue closed cases, build up to `limit` packages, list the ones past retention."""
    now = now or ctx.clock.now()
    result = BuildResult(queued=queue_closed_cases(ctx, now))
    skip: set[int] = set()
    for _ in range(limit):
        claimed = _claim(ctx, now, skip)
        if claimed is None:
            break
        skip.add(claimed[0])
        if build_claimed(ctx, *claimed, now):
            result.built += 1
        else:
            result.failed += 1
    result.listed_for_disposal = list_for_disposal(ctx, now)
    return result


def queue_closed_cases(ctx: ServiceContext, now: datetime) -> int:
    """A `pending` row for every closed case that has none; returns how many were queued."""
    queued = 0
    while True:
        with ctx.uow(write=True) as uow:
            s = uow.session
            cases = list(s.scalars(
                select(Case).outerjoin(ArchivePackage, ArchivePackage.case_id == Case.id)
                .where(Case.status.in_(FINAL_STATUSES), ArchivePackage.id.is_(None), _finished())
                .order_by(Case.id).limit(QUEUE_BATCH)))
            if not cases:
                return queued
            rows = [_pending_row(case, now) for case in cases]
            insert = pg_insert if ctx.db.is_postgres else sqlite_insert
            s.execute(insert(ArchivePackage).values(rows).on_conflict_do_nothing(index_elements=["case_id"]))
            uow.commit()
        queued += len(cases)
        if len(cases) < QUEUE_BATCH:
            return queued


def _finished():  # type: ignore[no-untyped-def]
    """A final status is not enough: an issued licence may still wait for pickup (an open task or a
    timer); the package is built once nothing more can happen to the case."""
    return and_(~exists().where(HumanTask.case_id == Case.id), ~exists().where(EngineTimer.case_id == Case.id))


def _pending_row(case: Case, now: datetime) -> dict[str, object]:
    years = contents.retention_years(case)
    closed = contents.closed_at(case)
    return {"case_id": case.id, "state": "pending", "attempts": 0, "retention_years": years,
            "retention_until": _add_years(closed, years), "created_at": now}


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year + years, day=28)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    P = ArchivePackage
    return or_(P.state == "pending",
               and_(P.state == "building", P.claimed_at <= now - LEASE),
               and_(P.state == "failed", P.claimed_at <= now - RETRY_AFTER_FAILURE))


def _claim(ctx: ServiceContext, now: datetime, skip: set[int]) -> tuple[int, str] | None:
    """Take one package to build; returns (package id, claim token) or None when none is left."""
    with ctx.uow(write=True) as uow:
        s = uow.session
        package = s.scalar(claimable(ctx, select(ArchivePackage).where(_due(now)).order_by(ArchivePackage.id)
                                     .limit(1), ArchivePackage.id, skip))
        if package is None:
            return None
        token = secrets.token_hex(16)
        package.state, package.claim_token, package.claimed_at = "building", token, now
        package.attempts += 1
        package_id = package.id
        uow.commit()
        return package_id, token


def build_claimed(ctx: ServiceContext, package_id: int, token: str, now: datetime) -> bool:
    """Build and record one claimed package; False (an incident, the row `failed`) when it failed."""
    root = archive_dir(ctx)
    tmp: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        with ctx.uow() as uow:
            package = uow.session.get_one(ArchivePackage, package_id)
            case = uow.session.get_one(Case, package.case_id)
            case_no = case.case_no
            _remove_leftovers(root, case_no)
            entries, docs = contents.gather(uow.session, FileStore(ctx.upload_dir), case, package.retention_years)
            stamp = contents.closed_at(case)
        entries.update(documents.render(ctx.documents, ctx.upload_dir, docs))  # outside: it may read the database
        tmp = root / f"{TEMP_PREFIX}{case_no}-{token}.zip"
        write_zip(tmp, entries, stamp)
        return _record(ctx, package_id, token, tmp, root / f"{case_no}.zip", now)
    except Exception as exc:  # noqa: BLE001  (one case's failure must not stop the others)
        _fail(ctx, package_id, token, now, exc)
        return False
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def _record(ctx: ServiceContext, package_id: int, token: str, tmp: Path, target: Path, now: datetime) -> bool:
    sha256, size = file_sha256(tmp)
    with ctx.uow(write=True) as uow:
        package = _locked(ctx, uow.session, package_id)
        if package.claim_token != token or package.state != "building":
            log.warning("archive: package %s was taken over by another builder; dropping this build", package_id)
            return False
        os.replace(tmp, target)  # atomic; the row says `built` only once the file is in place
        package.state, package.path, package.sha256, package.size = "built", target.name, sha256, size
        package.built_at, package.claim_token, package.error = now, None, None
        uow.commit()
    _fsync_dir(target.parent)
    return True


def _fail(ctx: ServiceContext, package_id: int, token: str, now: datetime, exc: Exception) -> None:
    log.warning("archive: package %s failed", package_id, exc_info=True)
    with ctx.uow(write=True) as uow:
        package = _locked(ctx, uow.session, package_id)
        if package.claim_token != token:
            return
        package.state, package.claimed_at, package.claim_token = "failed", now, None
        package.error = f"{type(exc).__name__}: {exc}"[:4000]
        add_job_incident(uow.session, package.case_id, now, "archive", exc)
        uow.commit()


def _locked(ctx: ServiceContext, s: Session, package_id: int) -> ArchivePackage:
    query = select(ArchivePackage).where(ArchivePackage.id == package_id)
    if ctx.db.is_postgres:
        query = query.with_for_update()
    return s.scalars(query).one()


def _remove_leftovers(root: Path, case_no: str) -> None:
    """Temp files a killed builder left for this case (their claim has expired, or we would not be here)."""
    for leftover in root.glob(f"{TEMP_PREFIX}{case_no}-*.zip"):
        leftover.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def list_for_disposal(ctx: ServiceContext, now: datetime) -> int:
    """Mark built packages whose retention period has passed as listed for disposal; returns how many.
    Nothing is deleted: an archivist decides on each."""
    with ctx.uow(write=True) as uow:
        P = ArchivePackage
        count = uow.session.execute(
            update(P).where(P.state == "built", P.retention_until <= now, P.disposal_listed_at.is_(None))
            .values(disposal_listed_at=now), execution_options={"synchronize_session": False}).rowcount
        uow.commit()
    return int(count or 0)
