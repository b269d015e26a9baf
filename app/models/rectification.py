"""差评整改 (GB/T 39734 §9): the handling of one bad rating. The work itself runs as a case of the
rectification item on the engine (`case_id`); this row keeps what the indicators count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

CLASSIFICATIONS = ("valid", "mistaken", "malicious")  # 分类研判: 有效 / 误评 / 恶意
RECTIFICATION_STATES = ("open", "closed")


class Rectification(Base):
    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_state_opened", "state", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"), unique=True)
    # The rectification case on the engine (None until it is started).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"),
                                                      index=True)
    state: Mapped[str] = mapped_column(String(8), default="open")  # RECTIFICATION_STATES
    classification: Mapped[str | None] = mapped_column(String(12))  # CLASSIFICATIONS; None: not yet judged
    classification_reason: Mapped[str] = mapped_column(Text, default="")
    called_back_at: Mapped[datetime | None]  # 回访 done
    callback_outcome: Mapped[str] = mapped_column(Text, default="")
    rectified_at: Mapped[datetime | None]  # 整改 done by the responsible department
    rectification: Mapped[str] = mapped_column(Text, default="")
    feedback: Mapped[str] = mapped_column(Text, default="", server_default="")  # 反馈: what the rater was told (migration 0028)
    fed_back_at: Mapped[datetime | None]  # from then on the rater may follow up (追加评价)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
