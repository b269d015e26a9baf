"""The case event log (办件日志): append-only, written with Core inserts on the hot path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models import CaseEvent


def log_event(s: Session, case_id: int, now: datetime, action: str, actor_id: int | None = None,
              **fields: Any) -> None:
    # The ORM's bookkeeping buys nothing for rows that are never updated.
    s.execute(insert(CaseEvent.__table__).values(case_id=case_id, at=now, actor_id=actor_id, action=action,
                                                 **fields))
