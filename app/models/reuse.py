"""Materials provided from the licence library (减材料, DB4201 Annex A 证照调取) instead of a file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReusedLicence(Base):
    """One material of a draft or a case that an e-licence the applicant holds stands for.

    The number, version and type are copied from the licence when it is chosen, so the record still
    says what was relied on after the licence is revoked, replaced by a new version or deleted.
    """

    __tablename__ = "reused_licences"
    __table_args__ = (Index("ix_reused_licences_case", "case_id", "material"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # A draft's choice moves onto the case when the draft is submitted; deleting a draft deletes its choices.
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    material: Mapped[str] = mapped_column(String(200))
    licence_id: Mapped[int | None] = mapped_column(ForeignKey("licences.id", ondelete="SET NULL"))
    licence_number: Mapped[str] = mapped_column(String(64))
    licence_version: Mapped[int]
    licence_type: Mapped[str] = mapped_column(String(200))
    # Correction round, as for files: 0 with the application, n with the n-th resubmission.
    round: Mapped[int] = mapped_column(default=0)
    chosen_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chosen_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]
