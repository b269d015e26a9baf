"""Written notices and receipts issued as a case moves (收件回执, 补正告知书, 受理通知书, ...).

`after_step` is called by `projection.save_step` inside the step's transaction, after the projections
are written, whenever the case was created or its status moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.engine.runtime import StepResult
from app.models import Case


@dataclass(frozen=True)
class StatusChange:
    """`before`: the status when the step began (None for a new case); `reached`: the statuses the
    case passed through in this step, in order; `result`: the engine nodes passed."""

    before: str | None
    reached: list[str]
    result: StepResult


def after_step(s: Session, case: Case, change: StatusChange, data: Callable[[], Mapping[str, Any]],
               now: datetime, actor_id: int | None) -> None:
    """Issue the notices this change calls for (see the documents helper's implementation)."""
    return None
