"""Projections of the engine state, written in the same transaction as the state itself.

Inboxes and the scheduler read only these tables; they never deserialize a workflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class HumanTask(Base):
    """An open (READY) user task; `id` is the engine's task id."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_due", "due_at", "created_at"),
        Index("ix_human_tasks_assignee_due", "assignee_id", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    task_key: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(64))
    candidate_groups: Mapped[list[Any]] = mapped_column(default=list)
    candidate_users: Mapped[list[Any]] = mapped_column(default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    # From when the light of the clock behind `due_at` is yellow, by that clock's own thresholds (the due-soon
    # view reads it); None for a task without a clock.
    yellow_at: Mapped[datetime | None]

    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class TaskCandidate(Base):
    """One row per candidate group or user of an open task, so inbox queries use an index."""

    __tablename__ = "task_candidates"
    __table_args__ = (Index("ix_task_candidates_kind_name", "kind", "name"),)

    task_id: Mapped[str] = mapped_column(
        ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "group" | "user"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)


class EngineTimer(Base):
    """A waiting BPMN timer; the scheduler claims due rows by `due_at`."""

    __tablename__ = "engine_timers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_key: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(index=True)
