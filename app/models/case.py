"""Cases (办件), their append-only event log and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .base import Base
from .item import Item
from .item_revision import ItemRevision
from .org import User
from .process import ProcessDefinition

CASE_STATUSES = (
    "draft", "submitted", "correction", "accepted", "in_review", "decided", "issued", "closed",
    "refused", "withdrawn",
)
FINAL_STATUSES = ("issued", "closed", "refused", "withdrawn")
CASE_CHANNELS = ("online", "window")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_applicant_status", "applicant_id", "status"),
        Index("ix_cases_item_status", "item_id", "status"),
        # The statistics' backlog: open cases (closed_at NULL), by item and the day they came in, read
        # from the index alone.
        Index("ix_cases_open", "closed_at", "item_id", "channel", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    process_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definitions.id"))
    # The item revision the case started with: its limits and materials hold for the whole case.
    item_revision_id: Mapped[int | None] = mapped_column(ForeignKey("item_revisions.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(64))
    engine_state: Mapped[str | None] = deferred(mapped_column(Text))
    # What the applicant submitted (the application form), kept apart from the process data.
    application: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # 'online' (the applicant applied) or 'window' (a clerk recorded it at the window): CASE_CHANNELS.
    channel: Mapped[str] = mapped_column(String(8), default="online", server_default="online")
    # A change/renewal/cancellation case: the version of the licence current when it was applied for.
    # Another version issued since means another case got there first (refused with 409).
    licence_version: Mapped[int | None]
    # Bumped by every state change; the ORM also checks it on UPDATE (a second line of defence
    # behind the row lock).
    version: Mapped[int] = mapped_column(default=1)
    received_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    # Art. 32: no correction notice within 5 working days = accepted as of receipt.
    deemed_accepted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    item: Mapped[Item] = relationship(lazy="joined")
    applicant: Mapped[User] = relationship(lazy="joined")
    process_definition: Mapped[ProcessDefinition | None] = relationship()
    item_revision: Mapped[ItemRevision | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class CaseEvent(Base):
    """Who did what to a case and when; never updated or deleted."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id", "case_id", "id"),
                      # "done by me", newest first, without sorting all of a clerk's history
                      Index("ix_case_events_actor", "actor_id", "action", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_key: Mapped[str | None] = mapped_column(String(128))
    task_name: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    data_before: Mapped[dict[str, Any] | None] = mapped_column()
    data_after: Mapped[dict[str, Any] | None] = mapped_column()

    actor: Mapped[User | None] = relationship(lazy="joined")


class Incident(Base):
    """An engine failure on a case (script error, limit exceeded); the case itself stayed unchanged."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    element_id: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]


class CaseCounter(Base):
    """Daily sequence per case-number prefix, for 受理编号 like SP20261123000001."""

    __tablename__ = "case_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
