"""The licences an applicant holds (证照库), for reusing one instead of submitting a material again
(减材料, DB4201 Annex A 证照调取).

A holder is known by their ID number or unified social credit code (the licence's `holder_id`) and,
when they have an account, by the cases they applied for (a licence issued on one of them is theirs even
if its holder field names someone else, such as a company applying under a new code). Only the latest
version of a number counts, and only while it is valid and not expired on the clock's date: a replaced,
revoked or expired licence proves nothing any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.clock import CHINA_TZ
from app.models import Case, Licence
from app.services.context import ServiceContext


@dataclass(frozen=True)
class Holder:
    """Who holds: an ID number / USCC, and the account whose cases count (None: no account yet)."""

    id_number: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Holding:
    """A licence as the application form offers it."""

    id: int
    number: str
    version: int
    licence_type: str
    holder_name: str
    valid_to: date | None


class NotUsable(Exception):
    """Why a licence cannot stand for a material; `message` is bilingual, for the material's key."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def today(ctx: ServiceContext) -> date:
    """The date licences expire by: China's, on the injected clock."""
    return ctx.clock.now().astimezone(CHINA_TZ).date()


def held(s: Session, holder: Holder, on: date, licence_type: str | None = None) -> list[Holding]:
    """The usable licences `holder` holds on `on` (of `licence_type`, if given), by type and number."""
    query = select(Licence).where(_theirs(holder), Licence.state == "valid", _latest(),
                                  or_(Licence.valid_to.is_(None), Licence.valid_to >= on))
    if licence_type is not None:
        query = query.where(Licence.licence_type == licence_type)
    return [_holding(lic) for lic in s.scalars(query.order_by(Licence.licence_type, Licence.number))]


def usable(s: Session, holder: Holder, number: str, licence_type: str, on: date) -> Holding:
    """The licence `number` if `holder` may use it for a material that asks for `licence_type`.

    :raises NotUsable: not held by them (or unknown: no hint which), of another type, or no longer
        valid (revoked, replaced by a newer version, expired).
    """
    latest = s.scalar(select(Licence).where(Licence.number == number[:64], _theirs(holder))
                      .order_by(Licence.version.desc()).limit(1))
    if latest is None:
        raise NotUsable(f"证照库中没有您持有的证照 {number[:64]} / you hold no licence numbered {number[:64]}")
    newer = s.scalar(select(func.max(Licence.version)).where(Licence.number == latest.number))
    if latest.licence_type != licence_type:
        raise NotUsable(f"证照 {latest.number} 是{latest.licence_type}，此材料需要{licence_type}"
                        f" / licence {latest.number} is a {latest.licence_type}, this material needs a {licence_type}")
    if latest.state == "revoked":
        raise NotUsable(f"证照 {latest.number} 已被撤销 / licence {latest.number} was revoked")
    if latest.state != "valid" or (newer or 0) > latest.version:
        raise NotUsable(f"证照 {latest.number} 已被换发，请使用新版本 / licence {latest.number} was replaced by a newer version")
    if latest.valid_to is not None and latest.valid_to < on:
        raise NotUsable(f"证照 {latest.number} 已于 {latest.valid_to.isoformat()} 过期"
                        f" / licence {latest.number} expired on {latest.valid_to.isoformat()}")
    return _holding(latest)


def _theirs(holder: Holder) -> ColumnElement[bool]:
    ways: list[ColumnElement[bool]] = []
    if holder.id_number:
        ways.append(Licence.holder_id == holder.id_number)
    if holder.user_id is not None:
        ways.append(Licence.case_id.in_(select(Case.id).where(Case.applicant_id == holder.user_id)))
    return or_(*ways) if ways else false()


def _latest() -> ColumnElement[bool]:
    """No newer version of the same number exists (versions of one number share it, see records)."""
    newer = aliased(Licence)
    return ~select(newer.id).where(newer.number == Licence.number, newer.version > Licence.version).exists()


def _holding(licence: Licence) -> Holding:
    return Holding(licence.id, licence.number, licence.version, licence.licence_type, licence.holder_name,
                   licence.valid_to)
