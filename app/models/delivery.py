"""Delivery of a case's licence (送达): window pickup with its 领证回执, or mail with a tracking number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

DELIVERY_METHODS = ("pickup", "mail")
COLLECTOR_RELATIONS = ("self", "proxy")  # 本人 / 代领


class LicenceDelivery(Base):
    """One per issued case, written in the issuance step's transaction. The pickup place and hours are
    copied in then, so the applicant's message and the page keep saying where they were told to go."""

    __tablename__ = "licence_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    licence_id: Mapped[int | None] = mapped_column(ForeignKey("licences.id", ondelete="SET NULL"))
    licence_no: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    pickup_place: Mapped[str] = mapped_column(String(300), default="")
    pickup_hours: Mapped[str] = mapped_column(String(300), default="")
    mail_address: Mapped[str] = mapped_column(String(300), default="")
    carrier: Mapped[str] = mapped_column(String(64), default="")
    tracking_no: Mapped[str | None] = mapped_column(String(32))
    ready_at: Mapped[datetime]
    mailed_at: Mapped[datetime | None]
    collected_at: Mapped[datetime | None]
    collector_name: Mapped[str | None] = mapped_column(String(100))
    collector_id_number: Mapped[str | None] = mapped_column(String(18))
    collector_relation: Mapped[str | None] = mapped_column(String(8))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mailed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who recorded the collection
