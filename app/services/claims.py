"""How a scheduler job claims its next due rows, the same way in every job: rows this tick has already
given up on are left out, and on PostgreSQL rows another scheduler process holds are skipped (`FOR UPDATE
SKIP LOCKED`), so any number of schedulers take disjoint rows and never wait on each other. SQLite has
no row locks: its single writer (the job's write transaction) serializes the schedulers instead."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.services.context import ServiceContext

T = TypeVar("T", bound=tuple[Any, ...])


def claimable(ctx: ServiceContext, query: Select[T], key: InstrumentedAttribute[int], skip: set[int]) -> Select[T]:
    """`query` (due rows, ordered and limited by the caller) without the rows whose `key` is in `skip`,
    locked for this transaction with SKIP LOCKED on PostgreSQL."""
    if skip:
        query = query.where(key.not_in(skip))
    if ctx.db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    return query
