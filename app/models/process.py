"""Deployed process definitions: immutable versions of a BPMN file, one row per executable process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base


class ProcessDefinition(Base):
    __tablename__ = "process_definitions"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_process_definitions_key_version"),
        Index("ix_process_definitions_key_hash", "key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = deferred(mapped_column(Text))
    # Form files the process refers to, and the pinned definition id of every called process that is
    # not in this file: {called process key: process_definitions.id}.
    forms: Mapped[list[Any]] = mapped_column(default=list)
    called: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime]


class ProcessForm(Base):
    """A form as deployed with a process-definition version: the version's cases validate and show this
    text, never the current `forms/` folder. `form_key` is the file name a `camunda:formKey` names
    ("preview.form"), or `inline:<task id>` for a task's inline `camunda:formData` (converted to form-js)."""

    __tablename__ = "process_forms"
    __table_args__ = (UniqueConstraint("definition_id", "form_key", name="uq_process_forms_definition_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)  # form-js JSON
    content_hash: Mapped[str] = mapped_column(String(64))
