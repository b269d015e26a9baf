"""The file clean-up job: drafts unchanged for DRAFT_DAYS natural days are deleted, then the stored
bytes no record refers to are removed once they are older than a grace period.

Deleting bytes inline when a record went raced a concurrent upload of the same content (the store is
content-addressed: one file serves every record with those bytes) and left a new record pointing at
deleted bytes. Here a file is removed only if
- it is older than the grace period: every upload writes its file anew, with the upload time as its
  mtime (`FileStore.put`), before it records it, so bytes an upload is about to record are young; and
- once moved aside (an atomic rename: an upload of the same bytes from then on writes a new file
  under the real name), the moved file is still old and, read again in a transaction, still no
  record refers to it. Otherwise it is put back.
Each file is handled on its own: one that fails is logged and left for the next run.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from app.models import CaseFile, Draft
from app.services.context import ServiceContext
from app.services.documents.files import TEMP_PREFIX

log = logging.getLogger(__name__)

DRAFT_DAYS = 30  # natural days a draft is kept after its last change
GRACE_HOURS = 24.0  # how old unreferenced bytes must be before they are removed
ASIDE_PREFIX = ".sweep-"  # a file being removed: .sweep-<sha256>-<moved at>-<token>
BATCH = 500


@dataclass(frozen=True)
class CleanupResult:
    drafts_expired: int = 0
    files_removed: int = 0
    failures: int = 0


def clean_up(ctx: ServiceContext, *, draft_days: int = DRAFT_DAYS, grace_hours: float = GRACE_HOURS
             ) -> CleanupResult:
    """The job: expire old drafts, then remove the unreferenced stored bytes older than `grace_hours`."""
    now = ctx.clock.now()
    expired = expire_drafts(ctx, now, draft_days)
    removed, failures = sweep_files(ctx, ctx.upload_dir, now - timedelta(hours=grace_hours), now)
    if expired or removed or failures:
        log.info("clean-up: %d drafts expired, %d files removed, %d failed", expired, removed, failures)
    return CleanupResult(expired, removed, failures)


def expire_drafts(ctx: ServiceContext, now: datetime, draft_days: int = DRAFT_DAYS) -> int:
    """Delete the drafts unchanged for `draft_days` natural days, with their file records; returns
    how many went. Drafts are claimed with SKIP LOCKED, so a save in progress keeps its draft."""
    total = 0
    while True:
        with ctx.uow(write=True) as uow:
            s = uow.session
            due = list(s.scalars(select(Draft.id).where(Draft.updated_at < now - timedelta(days=draft_days))
                                 .order_by(Draft.id).limit(BATCH).with_for_update(skip_locked=True)))
            if due:
                s.execute(delete(CaseFile).where(CaseFile.draft_id.in_(due), CaseFile.case_id.is_(None)))
                s.execute(delete(Draft).where(Draft.id.in_(due)))
            uow.commit()
        total += len(due)
        if len(due) < BATCH:
            return total


Referenced = Callable[[ServiceContext, set[str]], set[str]]


def sweep_files(ctx: ServiceContext, root: Path, cutoff: datetime, now: datetime,
                referenced: Referenced | None = None) -> tuple[int, int]:
    """Remove the stored files last written before `cutoff` that no record refers to, and what killed
    uploads or sweeps left behind; returns (removed, failed). `referenced` tells which of some hashes
    records refer to (default: case and draft files); another store (item templates) passes its own."""
    referenced = referenced or _referenced
    removed = failed = 0
    for batch in _batches(_old_files(root, cutoff.timestamp())):
        unreferenced = set(batch) - referenced(ctx, set(batch))
        for sha256 in sorted(unreferenced):
            try:
                removed += _remove(ctx, root, sha256, cutoff.timestamp(), now.timestamp(), referenced)
            except Exception:  # one file never stops the others; the next run tries it again
                failed += 1
                log.exception("clean-up: could not remove stored file %s", sha256)
    for leftover in _leftovers(root, cutoff.timestamp()):
        try:
            _settle_leftover(ctx, root, leftover, referenced)
        except Exception:
            failed += 1
            log.exception("clean-up: could not remove %s", leftover)
    return removed, failed


def _remove(ctx: ServiceContext, root: Path, sha256: str, cutoff: float, now: float, referenced: Referenced
            ) -> int:
    """Move the file aside, then delete it if it is still old and unreferenced, else put it back."""
    path = root / sha256[:2] / sha256
    aside = root / f"{ASIDE_PREFIX}{sha256}-{int(now)}-{secrets.token_hex(4)}"
    try:
        _move_aside(path, aside)
    except FileNotFoundError:  # another sweep took it
        return 0
    if aside.stat().st_mtime >= cutoff or referenced(ctx, {sha256}):
        _put_back(aside, path)  # an upload wrote or recorded these bytes meanwhile
        return 0
    aside.unlink()
    return 1


def _move_aside(path: Path, aside: Path) -> None:
    os.rename(path, aside)


def _put_back(aside: Path, path: Path) -> None:
    try:
        os.link(aside, path)
    except FileExistsError:  # a newer upload wrote the same bytes under the real name: keep that one
        pass
    aside.unlink()


def _settle_leftover(ctx: ServiceContext, root: Path, leftover: Path, referenced: Referenced) -> None:
    """A file a killed upload or sweep left: an aside file goes back if a record refers to it."""
    if leftover.name.startswith(ASIDE_PREFIX):
        sha256 = leftover.name[len(ASIDE_PREFIX):].split("-", 1)[0]
        if referenced(ctx, {sha256}):
            _put_back(leftover, root / sha256[:2] / sha256)
            return
    leftover.unlink(missing_ok=True)


def _referenced(ctx: ServiceContext, hashes: set[str]) -> set[str]:
    with ctx.uow() as uow:
        return set(uow.session.scalars(select(CaseFile.sha256).where(CaseFile.sha256.in_(hashes)).distinct()))


def _old_files(root: Path, cutoff: float) -> Iterator[str]:
    """The hashes of the stored files last written before `cutoff`."""
    if not root.is_dir():
        return
    for folder in os.scandir(root):
        if not folder.is_dir(follow_symlinks=False) or len(folder.name) != 2:
            continue
        for entry in os.scandir(folder.path):
            if entry.is_file(follow_symlinks=False) and entry.name.startswith(folder.name) \
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                yield entry.name


def _leftovers(root: Path, cutoff: float) -> list[Path]:
    """Temporary files of killed uploads and aside files of killed sweeps, older than `cutoff`."""
    if not root.is_dir():
        return []
    found = []
    for entry in os.scandir(root):
        if entry.name.startswith(TEMP_PREFIX) and entry.stat().st_mtime < cutoff:
            found.append(Path(entry.path))
        elif entry.name.startswith(ASIDE_PREFIX) and _moved_at(entry.name) < cutoff:
            found.append(Path(entry.path))
    return found


def _moved_at(name: str) -> float:
    parts = name[len(ASIDE_PREFIX):].split("-")
    return float(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0.0


def _batches(hashes: Iterator[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for sha256 in hashes:
        batch.append(sha256)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
