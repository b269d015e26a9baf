"""Electronic licences (电子证照) and the departments' signing keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

LICENCE_STATES = ("valid", "revoked", "replaced")


class Licence(Base):
    """One issued e-licence. `content` holds the signed facts; `signature` is the department key's
    signature over their canonical JSON (app/services/licensing/canonical.py), so any later change of a
    signed column shows as tampered.

    A change or renewal issues a new version under the same number (version + 1, signed afresh); the old
    row stays, `replaced`, pointing at its successor, so its QR code still verifies and says so."""

    __tablename__ = "licences"
    __table_args__ = (Index("ix_licences_case", "case_id"), Index("ix_licences_holder_id", "holder_id"),
                      UniqueConstraint("number", "version", name="uq_licences_number_version"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(16), default="valid")
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    licence_type: Mapped[str] = mapped_column(String(200))
    holder_name: Mapped[str] = mapped_column(String(300))
    holder_id: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    issued_on: Mapped[date]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    key_id: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(16), default="ed25519")
    payload_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)  # base64url, no padding
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaced_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("licences.id"))


class DepartmentKey(Base):
    """A department's public signing key; the private half lives in the keys folder, outside the web root.
    A rotated key is retired (no new signatures) but stays here so older licences still verify."""

    __tablename__ = "department_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="ed25519")
    public_key: Mapped[str] = mapped_column(Text)  # base64url of the raw 32-byte Ed25519 key
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
