"""Service items (事项) and the public guide fields of DB4201/T 571 §5.1.1.2."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .org import Department

TYPE_CODES = {
    "01": "行政许可", "02": "行政处罚", "03": "行政强制", "04": "行政征收", "05": "行政给付",
    "06": "行政检查", "07": "行政确认", "08": "行政奖励", "09": "行政裁决", "10": "其他行政权力",
    "20": "公共服务",
}
CASE_KINDS = {"instant": "即办件", "promised": "承诺件"}
LIMIT_UNITS = {"wd": "工作日", "d": "自然日"}
GUIDE_FIELDS = (
    "implementing_agency", "accepting_agency", "acceptance_conditions", "result_name", "result_sample",
    "office_hours", "location", "phone", "complaint_channel", "pickup_place", "pickup_hours",
)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type_code: Mapped[str] = mapped_column(String(2))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    case_kind: Mapped[str] = mapped_column(String(16))
    statutory_limit: Mapped[int]
    promised_limit: Mapped[int]
    limit_unit: Mapped[str] = mapped_column(String(4), default="wd")
    joint: Mapped[bool] = mapped_column(default=False)
    # Alarm thresholds (电子监察): yellow at this share of the limit elapsed or this many working days left.
    yellow_ratio: Mapped[float | None]
    yellow_days: Mapped[int | None]
    departments: Mapped[list[Any]] = mapped_column(default=list)
    materials: Mapped[list[Any]] = mapped_column(default=list)
    fees: Mapped[str] = mapped_column(Text, default="不收费")
    process_key: Mapped[str] = mapped_column(String(128))
    form_key: Mapped[str | None] = mapped_column(String(200))
    case_prefix: Mapped[str] = mapped_column(String(8))
    guide: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]

    department: Mapped[Department] = relationship()

    @property
    def handling_departments(self) -> list[str]:
        """The codes of the departments that handle the item: its own (the lead), then the co-approving
        `departments`, in order, each once."""
        codes = [self.department.code] if self.department is not None else []
        return list(dict.fromkeys([*codes, *(str(d) for d in self.departments or [])]))
