"""Item revisions (实施清单变更): every change of an item is a numbered revision, drafted by one admin and
published by another (or by an admin with the publish right). The published revision's values are
copied onto the `items` row, so the guide, inboxes and new cases read the row as before; a case pins
the revision it started with and keeps its limits and materials when a later revision is published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

if TYPE_CHECKING:
    from .case import Case
    from .item import Item
    from .org import Department

REVISION_STATES = ("draft", "published", "superseded")
# The fields a revision snapshots: everything an admin edits except the code (the item's identity)
# and `active` (switched on its own, not a change of the 实施清单).
SNAPSHOT_FIELDS = (
    "name", "type_code", "department", "legal_basis", "case_kind", "statutory_limit", "promised_limit",
    "limit_unit", "joint", "departments", "materials", "fees", "process_key", "form_key", "case_prefix",
    "yellow_ratio", "yellow_days", "implementing_agency", "accepting_agency", "acceptance_conditions",
    "result_name", "result_sample", "result_sample_file", "office_hours", "location", "phone",
    "complaint_channel", "pickup_place", "pickup_hours", "licence",
)


class ItemRevision(Base):
    __tablename__ = "item_revisions"
    __table_args__ = (Index("uq_item_revisions_item_number", "item_id", "number", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="draft")
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_name: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]


@dataclass(frozen=True)
class ItemTerms:
    """What a case is held to: the limits, thresholds and materials of the revision it started with.
    It answers the same attribute names as `Item`, so clock and notice code reads either."""

    case_kind: str
    statutory_limit: int
    promised_limit: int
    limit_unit: str
    joint: bool
    yellow_ratio: float | None
    yellow_days: int | None
    materials: list[Any]
    departments: list[Any]
    department: Department | None

    @classmethod
    def of(cls, item: Item, snapshot: dict[str, Any] | None = None) -> ItemTerms:
        values = snapshot or {}

        def pick(name: str) -> Any:
            return values[name] if name in values else getattr(item, name)

        return cls(pick("case_kind"), pick("statutory_limit"), pick("promised_limit"), pick("limit_unit"),
                   bool(pick("joint")), pick("yellow_ratio"), pick("yellow_days"), list(pick("materials") or []),
                   list(pick("departments") or []), item.department)


def case_terms(case: Case) -> ItemTerms:
    """The terms of the revision `case` started with; a case from before revisions existed (none
    pinned) is held to the item as it stands."""
    revision = case.item_revision
    return ItemTerms.of(case.item, revision.snapshot if revision is not None else None)
