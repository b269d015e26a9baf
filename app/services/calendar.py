"""The working-day calendar kept in the database, and the in-memory copy every process computes with.

Seeded from `chinesecalendar` (2004–2026); administrators import a year's arrangement or edit single
days (app/services/calendar_admin.py). Every change bumps `calendar_revision`; a process reloads its
copy when it sees a new revision (checked at most every `recheck_seconds`; at once after its own edits).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import CalendarDay, CalendarRevision, CalendarYear
from app.workdays import WorkCalendar, default_calendar, package_arrangements

log = logging.getLogger(__name__)


class CalendarHolder:
    """The process's current `WorkCalendar`, reloaded when the table's revision moves on."""

    def __init__(self, db: Database, recheck_seconds: float = 10.0) -> None:
        self._db = db
        self._recheck = recheck_seconds
        self._lock = threading.Lock()
        self._calendar: WorkCalendar | None = None
        self._revision: int | None = None
        self._checked = float("-inf")
        # An in-memory SQLite database has one connection, busy inside the caller's transaction: there
        # a reload waits for a caller that passes its session.
        url = db.engine.url
        self._single_connection = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")

    def get(self, s: Session | None = None) -> WorkCalendar:
        """The current calendar. Give the caller's session where there is one: the revision check then
        runs inside the caller's transaction (an in-memory SQLite database has only that connection)."""
        # Monotonic process time, not the domain clock: this only paces a cache check.
        fresh = time.monotonic() - self._checked < self._recheck
        if self._calendar is not None and (fresh or (s is None and self._single_connection)):
            return self._calendar
        with self._lock:
            try:
                if s is not None:
                    self._refresh(s)
                else:
                    with self._db.session() as own:
                        self._refresh(own)
            except Exception:  # a calendar gap never crashes a request: keep the last good copy
                log.exception("calendar reload failed; using the %s copy",
                              "previous" if self._calendar else "package")
                if self._calendar is None:
                    self._calendar = default_calendar()
            self._checked = time.monotonic()
            return self._calendar

    def invalidate(self) -> None:
        self._checked = float("-inf")
        self._revision = None

    def _refresh(self, s: Session) -> None:
        revision = s.scalar(select(CalendarRevision.revision).where(CalendarRevision.id == 1))
        if revision is not None and revision == self._revision and self._calendar is not None:
            return
        self._calendar = load_calendar(s) or default_calendar()
        self._revision = revision


def load_calendar(s: Session) -> WorkCalendar | None:
    """The calendar in the table; None when it was never seeded."""
    years = {y for y, in s.execute(select(CalendarYear.year).where(CalendarYear.published.is_(True)))}
    rows = s.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)).all()
    if not years and not rows:
        return None
    return WorkCalendar({d: k == "workday" for d, k, _ in rows}, years, {d: n for d, _, n in rows})


def seed_calendar(s: Session, now: datetime) -> list[int]:
    """Add the package's arrangements for the years the table does not know yet, keeping any day an
    administrator already set in them; returns the years added. Callers recompute deadlines
    (calendar_admin.seed)."""
    known = set(s.scalars(select(CalendarYear.year)))
    days, years = package_arrangements()
    new_years = sorted(years - known)
    if not new_years:
        return []
    wanted = set(new_years)
    taken = set(s.scalars(select(CalendarDay.day).where(CalendarDay.day >= date(new_years[0], 1, 1))))
    rows = [{"day": d, "kind": "workday" if working else "holiday", "name": name[:60], "source": "chinesecalendar",
             "updated_at": now} for d, (working, name) in sorted(days.items()) if d.year in wanted and d not in taken]
    if rows:
        s.execute(insert(CalendarDay.__table__), rows)
    s.execute(insert(CalendarYear.__table__), [
        {"year": y, "published": True, "source": "chinesecalendar", "updated_at": now} for y in new_years])
    bump_revision(s, now)
    return new_years


def bump_revision(s: Session, now: datetime) -> int:
    """Mark the calendar changed (in the caller's transaction); returns the new revision."""
    updated = s.execute(update(CalendarRevision).where(CalendarRevision.id == 1)
                        .values(revision=CalendarRevision.revision + 1, changed_at=now))
    if updated.rowcount == 0:
        s.execute(insert(CalendarRevision.__table__).values(id=1, revision=1, changed_at=now))
    return int(s.scalar(select(func.max(CalendarRevision.revision))) or 0)
