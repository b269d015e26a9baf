"""The licence library (证照库) for staff: search licences by holder, number, type and state, and open one
with all its versions and the cases that produced them.

Who sees what: supervisors and administrators everything; clerks, approvers and heads their department's
licences and those whose cases they acted on; applicants their own (issued on their cases, or naming
their ID number / credit code as holder). Other roles (designers, archivists) have no library.
A list shows each number once, in its latest version; `expired` is a valid licence past its end date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from app.clock import CHINA_TZ
from app.errors import Forbidden
from app.models import Case, CaseEvent, Department, Item, Licence, User
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, window

from .canonical import short_signature
from .records import LicenceNotFound, LicenceView, may_revoke, view_of, visible

STATES = ("valid", "expired", "revoked")
STAFF = ("clerk", "approver", "head", "supervisor", "admin")


@dataclass(frozen=True)
class LicenceFilter:
    holder: str | None = None   # part of the holder's name, or their ID number / credit code
    holder_id: str | None = None  # exactly this ID number / credit code
    number: str | None = None   # the number or its beginning
    licence_type: str | None = None
    state: str | None = None    # valid / expired / revoked


@dataclass(frozen=True)
class LicenceSummary:
    number: str
    version: int
    state: str
    licence_type: str
    holder_name: str
    holder_id: str
    department: str
    department_name: str
    issued_on: date
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class VersionView:
    version: int
    state: str
    holder_name: str
    issued_on: date
    issued_at: datetime
    valid_from: date
    valid_to: date | None
    replaced_at: datetime | None
    replaced_by_version: int | None
    revoked_at: datetime | None
    revoked_reason: str | None
    case_no: str
    item_name: str
    short_signature: str


@dataclass(frozen=True)
class LicenceDetail:
    licence: LicenceView          # the latest version
    state: str                    # its state for people: valid / expired / revoked
    versions: list[VersionView]   # oldest first
    may_revoke: bool


def may_use(principal: Principal) -> bool:
    return principal.has(*STAFF, "applicant")


def search(ctx: ServiceContext, principal: Principal, flt: LicenceFilter, page: int = 1, per_page: int = 20
           ) -> Page[LicenceSummary]:
    """:raises Forbidden: a role without a licence library."""
    if not may_use(principal):
        raise Forbidden("无权查看证照库 / no access to the licence library")
    page, per_page = window(page, per_page)
    with ctx.uow() as uow:
        s = uow.session
        today = ctx.clock.now().astimezone(CHINA_TZ).date()
        newer = aliased(Licence)
        latest = ~exists().where(newer.number == Licence.number, newer.version > Licence.version)
        conditions = [latest, _scope(s, principal), *_filters(flt, today)]
        total = s.scalar(select(func.count()).select_from(Licence).where(*conditions)) or 0
        rows = s.execute(select(Licence, Department).join(Department, Department.id == Licence.department_id)
                         .where(*conditions).order_by(Licence.issued_at.desc(), Licence.id.desc())
                         .offset(offset(page, per_page)).limit(per_page))
        items = [_summary(lic, dept, today) for lic, dept in rows]
        return Page(items=items, page=page, per_page=per_page, total=total)


def detail(ctx: ServiceContext, principal: Principal, number: str) -> LicenceDetail:
    """A licence with all its versions.

    :raises LicenceNotFound: unknown or not visible (no hint which).
    """
    if not may_use(principal):
        raise LicenceNotFound("证照不存在 / licence not found")
    with ctx.uow() as uow:
        s = uow.session
        licence, case = visible(s, principal, number)
        today = ctx.clock.now().astimezone(CHINA_TZ).date()
        all_rows = list(s.execute(select(Licence, Case.case_no, Item.name).join(Case, Case.id == Licence.case_id)
                                  .join(Item, Item.id == Case.item_id).where(Licence.number == licence.number)
                                  .order_by(Licence.version)))
        by_id = {lic.id: lic.version for lic, _, _ in all_rows}
        versions = []
        for lic, case_no, item_name in all_rows:
            versions.append(VersionView(
                version=lic.version, state=lic.state, holder_name=lic.holder_name, issued_on=lic.issued_on,
                issued_at=lic.issued_at, valid_from=lic.valid_from, valid_to=lic.valid_to,
                replaced_at=lic.replaced_at, replaced_by_version=by_id.get(lic.replaced_by_id or 0),
                revoked_at=lic.revoked_at, revoked_reason=lic.revoked_reason, case_no=case_no,
                item_name=item_name, short_signature=short_signature(lic.signature)))
        return LicenceDetail(licence=view_of(licence, case), state=_state(licence, today), versions=versions,
                             may_revoke=may_revoke(s, principal, licence) and licence.state == "valid")


def _scope(s: Session, principal: Principal) -> ColumnElement[bool]:
    """The licences `principal` may list (any version of the number counts)."""
    if principal.sees_everything:
        return true()
    version = aliased(Licence)
    if principal.has("clerk", "approver", "head"):
        acted = exists().where(version.number == Licence.number, CaseEvent.case_id == version.case_id,
                               CaseEvent.actor_id == principal.id)
        dept_id = s.scalar(select(Department.id).where(Department.code == principal.department)) \
            if principal.department else None
        return or_(Licence.department_id == dept_id, acted) if dept_id is not None else acted
    if principal.has("applicant"):
        own = exists().where(version.number == Licence.number, Case.id == version.case_id,
                             Case.applicant_id == principal.id)
        id_number = s.scalar(select(User.id_number).where(User.id == principal.id))
        return or_(own, func.upper(Licence.holder_id) == id_number.strip().upper()) if id_number else own
    return false()


def _filters(flt: LicenceFilter, today: date) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if flt.holder and flt.holder.strip():
        term = flt.holder.strip()[:100]
        out.append(or_(Licence.holder_name.contains(term, autoescape=True),
                       func.upper(Licence.holder_id) == term.upper()))
    if flt.holder_id and flt.holder_id.strip():
        out.append(func.upper(Licence.holder_id) == flt.holder_id.strip()[:64].upper())
    if flt.number and flt.number.strip():
        out.append(Licence.number.startswith(flt.number.strip()[:64], autoescape=True))
    if flt.licence_type and flt.licence_type.strip():
        out.append(Licence.licence_type == flt.licence_type.strip()[:200])
    if flt.state == "revoked":
        out.append(Licence.state == "revoked")
    elif flt.state == "expired":
        out.append(and_(Licence.state == "valid", Licence.valid_to < today))
    elif flt.state == "valid":
        out.append(and_(Licence.state == "valid", or_(Licence.valid_to.is_(None), Licence.valid_to >= today)))
    return out


def licence_types(ctx: ServiceContext) -> list[str]:
    """The types issued so far, for the search form."""
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Licence.licence_type).distinct().order_by(Licence.licence_type)))


def _state(licence: Licence, today: date) -> str:
    if licence.state == "valid" and licence.valid_to is not None and licence.valid_to < today:
        return "expired"
    return licence.state


def _summary(lic: Licence, dept: Department, today: date) -> LicenceSummary:
    return LicenceSummary(
        number=lic.number, version=lic.version, state=_state(lic, today), licence_type=lic.licence_type,
        holder_name=lic.holder_name, holder_id=lic.holder_id, department=dept.code, department_name=dept.name,
        issued_on=lic.issued_on, valid_from=lic.valid_from, valid_to=lic.valid_to)
