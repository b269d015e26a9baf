"""The weights of the departments' performance score (绩效, §5.3.3): one row, id 1; absent, the defaults
in app/services/statistics/performance.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class PerformanceSettings(Base):
    __tablename__ = "performance_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    on_time: Mapped[int]  # weight of the on-time rate
    good_rating: Mapped[int]  # weight of the good-rating rate (好评率)
    rectification: Mapped[int]  # weight of the rectification rate (差评整改率)
    supervision: Mapped[int]  # weight of the supervision-order component
    order_cap: Mapped[int]  # orders per 100 cases at which the supervision component reaches 0
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
