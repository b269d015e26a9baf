"""Writing fired alarms exactly once: every alarm has a unique key, and inserting one that exists is a
no-op, so two schedulers that raced (or a retried tick) cannot fire it twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import Alarm
from app.services.context import ServiceContext


def insert_once(ctx: ServiceContext, s: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the alarms not fired yet (in the caller's transaction); returns the keys inserted now.
    RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT inserts."""
    if not rows:
        return set()
    dialect_insert = pg_insert if ctx.db.is_postgres else sqlite_insert
    stmt = dialect_insert(Alarm.__table__).on_conflict_do_nothing(index_elements=["key"]).returning(Alarm.key)
    return set(s.scalars(stmt, rows).all())
