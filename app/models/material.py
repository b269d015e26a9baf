"""Uploaded materials (申请材料), application drafts (暂存), notices and comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .item import Item
from .org import User

NOTICE_KINDS = {
    "receipt": "收件回执", "correction": "补正告知书", "acceptance": "受理通知书", "refusal": "不予受理通知书",
    "decision": "行政许可决定书", "pickup": "领证回执",
    "suspension": "特别程序告知书", "extension": "延长审查期限告知书",
}


class Draft(Base):
    """An application saved before submission; it becomes a case when submitted."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    item: Mapped[Item] = relationship(lazy="joined")


class CaseFile(Base):
    """One uploaded file for a required material, on a draft or a case.

    The bytes live outside the web root under a name derived from their SHA-256; a file is only ever
    served after checking who asks (a URL is not a capability).
    """

    __tablename__ = "case_files"
    __table_args__ = (Index("ix_case_files_case", "case_id", "material"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"), index=True)
    material: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # is a stored file still referenced?
    # Correction round the file belongs to: 0 with the application, n with the n-th resubmission.
    round: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]

    uploaded_by: Mapped[User] = relationship()


class Notice(Base):
    """A written notice or receipt issued on a case (收件回执, 补正告知书, 受理通知书, ...)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_case", "case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    issued_by: Mapped[User | None] = relationship()


class Comment(Base):
    """A remark on a case by staff (internal) or, when `public`, visible to the applicant."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    task_key: Mapped[str | None] = mapped_column(String(128))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    author: Mapped[User] = relationship()
