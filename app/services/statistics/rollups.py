"""Keeping the statistics' daily rollups up to date from the case event log.

The scheduler's job folds in the events written since the watermark, a batch per transaction; `rebuild`
recounts from the whole log (after a bug fix, a calendar change, or to fill the tables of an existing
database). Both go through `_fold`, which reads the whole relevant history of the cases concerned (a
case is received once, accepted once, ...: the first event of each kind counts) and adds only the facts
the caller says are new, so the two can never disagree.

Why a lag: event ids come from a sequence, and on PostgreSQL a transaction that took id 100 may commit
after one that took id 101. Folding 101 and moving the watermark past 100 would lose 100 for ever, so the
job only folds events older than `LAG` (no service transaction runs that long) and stops at the first
younger one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, Table, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import (
    FINAL_STATUSES,
    MEASURES,
    Case,
    CaseClock,
    CaseEvent,
    Item,
    StatDaily,
    StatDuration,
    StatOfficerDaily,
    StatWatermark,
)
from app.models.statistics import (
    StatDurationMonthly,
    StatMonthly,
    StatOfficerDuration,
    StatOfficerDurationMonthly,
    StatOfficerMonthly,
)
from app.services.context import ServiceContext
from app.workdays import WorkCalendar, as_date

WATERMARK = "daily"
LAG = timedelta(minutes=2)
BATCH_EVENTS = 5000
REBUILD_CASES = 20000
ACTIONS = ("created", "status", "deemed_accepted")
LEGAL_CLOCKS = ("notice", "decision", "issuance")  # the limits of the law; step limits are internal
log = logging.getLogger(__name__)

Counts = Callable[[int, date], bool]  # (event id, day) -> does this fold add the fact?


@dataclass
class Tally:
    """Rollup increments, keyed like the tables' primary keys."""

    daily: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    officers: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    durations: dict[tuple[Any, ...], int] = field(default_factory=dict)
    officer_durations: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def add(self, key: tuple[Any, ...], officer: int, measure: str) -> None:
        i = MEASURES.index(measure)
        self.daily.setdefault(key, [0] * len(MEASURES))[i] += 1
        self.officers.setdefault((*key, officer), [0] * len(MEASURES))[i] += 1

    def took(self, key: tuple[Any, ...], officer: int, stage: str, workdays: int) -> None:
        for table, full in ((self.durations, (*key, stage, max(workdays, 0))),
                            (self.officer_durations, (*key, officer, stage, max(workdays, 0)))):
            table[full] = table.get(full, 0) + 1

    def by_month(self, into: Tally | None = None) -> Tally:
        """The same increments keyed by the first day of their month (the monthly tables), added to
        `into` (a new tally when None)."""
        out = into if into is not None else Tally()
        for name in ("daily", "officers"):
            target: dict[tuple[Any, ...], list[int]] = getattr(out, name)
            for key, counts in getattr(self, name).items():
                row = target.setdefault((key[0].replace(day=1), *key[1:]), [0] * len(MEASURES))
                for i, n in enumerate(counts):
                    row[i] += n
        for name in ("durations", "officer_durations"):
            hist: dict[tuple[Any, ...], int] = getattr(out, name)
            for key, n in getattr(self, name).items():
                month = (key[0].replace(day=1), *key[1:])
                hist[month] = hist.get(month, 0) + n
        return out


@dataclass(frozen=True)
class _Event:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    status: str | None
    day: date  # of `at`, in China time


@dataclass(frozen=True)
class _Case:
    item_id: int
    department_id: int
    channel: str  # cases.channel: recorded when the case was created


def run_rollups(ctx: ServiceContext, now: datetime | None = None, max_batches: int = 100) -> int:
    """Fold the events written since the watermark into the rollups; returns how many events were read.

    One transaction per batch: a batch that fails is rolled back whole and tried again on the next tick
    (skipping it would leave the figures wrong for good). Another scheduler holding the watermark makes
    this one return at once."""
    now = now or ctx.clock.now()
    folded = 0
    for _ in range(max_batches):
        with ctx.uow(write=True) as uow:
            s = uow.session
            mark = _lock_watermark(ctx, s, now, wait=False)
            if mark is None:
                return folded
            start = mark.last_event_id
            end = _safe_end(s, start, now, BATCH_EVENTS)
            if end <= start:
                return folded
            cases = list(s.scalars(select(CaseEvent.case_id).distinct().where(
                CaseEvent.id > start, CaseEvent.id <= end, CaseEvent.action.in_(ACTIONS))))
            tally = Tally()
            _fold(s, ctx.calendar.get(s), CaseEvent.case_id.in_(cases), Case.id.in_(cases), end,
                  lambda event_id, _day, start=start: event_id > start, tally)
            write(ctx, s, tally)
            mark.last_event_id, mark.updated_at = end, now
            uow.commit()
        folded += end - start
    return folded


def rebuild(ctx: ServiceContext, since: date | None = None, now: datetime | None = None) -> int:
    """Recount the rollups from the event log: every day from the first of `since`'s month (all days when
    None; a monthly row is recounted whole); the days before it keep their rows, plus whatever the
    watermark had not reached yet. Holds the watermark for the whole recount, so the scheduler's job
    waits its turn. Returns the cases read."""
    now = now or ctx.clock.now()
    since = since.replace(day=1) if since is not None else None
    with ctx.uow(write=True) as uow:
        s = uow.session
        mark = _lock_watermark(ctx, s, now, wait=True)
        assert mark is not None
        old = mark.last_event_id
        end = _safe_end(s, old, now, None)
        end = max(end, old)
        for table in (*DAILY, *MONTHLY):
            query = delete(table)
            s.execute(query.where(table.day >= since) if since is not None else query)
        cal = ctx.calendar.get(s)
        counts: Counts = ((lambda event_id, day: day >= since or event_id > old) if since is not None
                          else (lambda _event_id, _day: True))
        low, high = s.execute(select(func.min(Case.id), func.max(Case.id))).one()
        read = 0
        months = Tally()  # written once at the end: each chunk of cases would update most monthly rows again
        for first in range(low or 0, (high or -1) + 1, REBUILD_CASES):
            last = first + REBUILD_CASES
            tally = Tally()
            read += _fold(s, cal, CaseEvent.case_id.between(first, last - 1), Case.id.between(first, last - 1),
                          end, counts, tally)
            write(ctx, s, tally, monthly=False)
            tally.by_month(into=months)
        _write_tables(ctx, s, MONTHLY, months)
        mark.last_event_id, mark.updated_at = end, now
        uow.commit()
        return read


def _safe_end(s: Session, start: int, now: datetime, batch: int | None) -> int:
    """The last event id that may be folded: below the first event younger than `LAG`, at most `batch` on."""
    young = s.scalar(select(func.min(CaseEvent.id)).where(CaseEvent.id > start, CaseEvent.at > now - LAG))
    end = (young - 1) if young is not None else (s.scalar(select(func.max(CaseEvent.id))) or 0)
    return min(end, start + batch) if batch is not None else end


def _lock_watermark(ctx: ServiceContext, s: Session, now: datetime, wait: bool) -> StatWatermark | None:
    """The watermark row, locked for this transaction; None when another scheduler holds it (PostgreSQL;
    SQLite's single writer already serializes the two)."""
    upsert = pg_insert if ctx.db.is_postgres else sqlite_insert
    s.execute(upsert(StatWatermark).values(name=WATERMARK, last_event_id=0, updated_at=now)
              .on_conflict_do_nothing(index_elements=["name"]))
    query = select(StatWatermark).where(StatWatermark.name == WATERMARK).execution_options(populate_existing=True)
    if ctx.db.is_postgres:
        query = query.with_for_update(skip_locked=not wait)
    return s.scalar(query)


def _fold(s: Session, cal: WorkCalendar, events_of: ColumnElement[bool], cases_of: ColumnElement[bool], end: int,
          counts: Counts, tally: Tally) -> int:
    """Add to `tally` the facts of the selected cases (their events up to id `end`) that `counts`
    accepts; returns the number of cases read."""
    # The centre's own cases (差评整改, channel 'internal') are not services to the public: not counted.
    cases = {row.id: _Case(row.item_id, row.department_id, row.channel) for row in s.execute(
        select(Case.id, Case.item_id, Item.department_id, Case.channel)
        .join(Item, Item.id == Case.item_id).where(cases_of, Case.channel != "internal"))}
    late = set(s.scalars(select(CaseClock.case_id).where(
        CaseClock.case_id.in_(select(Case.id).where(cases_of)), CaseClock.kind.in_(LEGAL_CLOCKS),
        CaseClock.on_time.is_(False))))
    histories: dict[int, list[_Event]] = {}
    status = CaseEvent.data_after["status"].as_string()
    for row in s.execute(select(CaseEvent.case_id, CaseEvent.id, CaseEvent.at, CaseEvent.actor_id, CaseEvent.action,
                                status).where(events_of, CaseEvent.id <= end, CaseEvent.action.in_(ACTIONS))
                         .order_by(CaseEvent.case_id, CaseEvent.id)):
        histories.setdefault(row[0], []).append(_Event(*row[1:], as_date(row[2])))
    for case_id, events in histories.items():
        case = cases.get(case_id)
        if case is not None:
            _fold_case(cal, case, events, case_id in late, counts, tally)
    return len(cases)


def _fold_case(cal: WorkCalendar, case: _Case, events: list[_Event], late: bool, counts: Counts,
               tally: Tally) -> None:
    created = next((e for e in events if e.action == "created"), None)
    channel = case.channel
    window = channel == "window"  # the clerk who recorded it received it; online nobody on staff did

    def fact(event: _Event | None, measure: str, officer: int | None) -> bool:
        if event is None or not counts(event.id, event.day):
            return False
        tally.add((event.day, case.department_id, case.item_id, channel), officer or 0, measure)
        return True

    def took(event: _Event, stage: str, since: _Event | None) -> None:
        if since is not None:
            key = (event.day, case.department_id, case.item_id, channel)
            tally.took(key, event.actor_id or 0, stage, cal.workdays_between(since.day, event.day))

    fact(created, "received", created.actor_id if window and created else None)
    accepted = next((e for e in events if e.action == "deemed_accepted" or e.status == "accepted"), None)
    if fact(accepted, "accepted", accepted.actor_id if accepted else None) and accepted:
        took(accepted, "acceptance", created)
    decided = next((e for e in events if e.action == "status" and e.status == "decided"), None)
    if decided is not None and counts(decided.id, decided.day):
        took(decided, "decision", accepted)
    for event in events:
        if event.action == "status" and event.status == "correction":
            fact(event, "corrections", event.actor_id)
    final = next((e for e in events if e.action == "status" and e.status in FINAL_STATUSES), None)
    if final is None or final.status == "withdrawn":
        fact(final, "withdrawn", final.actor_id if final else None)
        return
    if fact(final, "finished", final.actor_id):
        if final.status == "refused":
            fact(final, "refused", final.actor_id)
        fact(final, "late" if late else "on_time", final.actor_id)
        took(final, "total", created)


KEYS = ("day", "department_id", "item_id", "channel")
DAILY = (StatDaily, StatOfficerDaily, StatDuration, StatOfficerDuration)
MONTHLY = (StatMonthly, StatOfficerMonthly, StatDurationMonthly, StatOfficerDurationMonthly)


def write(ctx: ServiceContext, s: Session, tally: Tally, monthly: bool = True) -> None:
    """Add the tally to the daily and (unless told not to) the monthly tables."""
    _write_tables(ctx, s, DAILY, tally)
    if monthly:
        _write_tables(ctx, s, MONTHLY, tally.by_month())


def _write_tables(ctx: ServiceContext, s: Session, tables: tuple[Any, ...], part: Tally) -> None:
    """Add `part` to the four tables (insert, or add to the row already there)."""
    counts, officer_counts, durations, officer_durations = (t.__table__ for t in tables)
    officer = (*KEYS, "officer_id")
    for table, keys, rows in ((counts, KEYS, part.daily), (officer_counts, officer, part.officers)):
        _upsert(ctx, s, table, keys, MEASURES,  # type: ignore[arg-type]
                ({**dict(zip(keys, k, strict=True)), **dict(zip(MEASURES, v, strict=True))}
                 for k, v in rows.items()))
    for table, keys, hist in ((durations, (*KEYS, "stage", "workdays"), part.durations),
                              (officer_durations, (*officer, "stage", "workdays"), part.officer_durations)):
        _upsert(ctx, s, table, keys, ("cases",),  # type: ignore[arg-type]
                ({**dict(zip(keys, k, strict=True)), "cases": n} for k, n in hist.items()))


def _upsert(ctx: ServiceContext, s: Session, table: Table, keys: tuple[str, ...], sums: tuple[str, ...],
            rows: Iterable[dict[str, Any]]) -> None:
    """Add `rows` to `table`: a plain bulk insert into a temporary staging table (batched by the driver,
    one compiled statement), then one INSERT ... SELECT ... ON CONFLICT DO UPDATE that adds them up.
    A row-by-row upsert costs a round trip per row, a multi-row VALUES upsert a compilation per batch."""
    rows = list(rows)
    if not rows:
        return
    stage = _staging(ctx, s, table)
    if ctx.db.is_postgres:  # COPY: the driver's executemany is a round trip per row
        names = list(rows[0])
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {stage.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[n] for n in names])
    else:
        s.execute(insert(stage), rows)
    columns = ", ".join((*keys, *sums))
    updates = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in sums)
    # `WHERE true` lets SQLite tell the upsert clause from a join constraint.
    s.execute(text(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage.name} WHERE true "
                   f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"))
    s.execute(delete(stage))


_STAGES: dict[str, Table] = {}


def _staging(ctx: ServiceContext, s: Session, table: Table) -> Table:
    """A temporary table shaped like `table` (no keys), private to this connection."""
    name = f"stage_{table.name}"
    if ctx.db.is_postgres:
        s.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} (LIKE {table.name}) ON COMMIT DELETE ROWS"))
    else:
        s.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT * FROM {table.name} WHERE 0"))
    if name not in _STAGES:
        _STAGES[name] = Table(name, MetaData(), *(Column(c.name, c.type) for c in table.c))
    return _STAGES[name]
