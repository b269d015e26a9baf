"""Reading, verifying and revoking licences.

Verification recomputes the canonical facts from the stored row and checks the signature with the key
that signed it (retired keys included), so an edit of any signed column in the database shows as
tampered; a presented signature (the QR's short form) or a presented PDF's embedded facts must match the
record too. Revocation is not a fact of the licence and does not break the signature.

A number has versions (a change or renewal issues the next, lifecycle.py): without a signature the latest
is meant; a QR's signature or a PDF's embedded facts name the version they came from, and a replaced
version says so and leads to the current one.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Case, Department, DepartmentKey, Item, Licence, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal
from app.services.identity.ratelimit import TRACK, attempt

from .canonical import canonical_json, short_signature, verify
from .issue import facts


class LicenceNotFound(NotFound):
    pass


@dataclass(frozen=True)
class LicenceView:
    number: str
    version: int
    state: str
    case_no: str
    facts: dict[str, Any]
    signature: str
    short_signature: str
    algorithm: str
    payload_sha256: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    replaced_at: datetime | None = None
    replaced_by_version: int | None = None


@dataclass(frozen=True)
class Verdict:
    """`status`: valid / expired / revoked / replaced / tampered; `licence`: the version the visitor holds,
    as the record holds it; `current`: the latest version when that is another one."""

    status: str
    licence: LicenceView
    reasons: tuple[str, ...] = ()
    current: LicenceView | None = None


def get(ctx: ServiceContext, principal: Principal, number: str, version: int | None = None) -> LicenceView:
    """A licence's version (the latest by default) for staff who may see it, or its holder.

    :raises LicenceNotFound: unknown or not visible (no hint which).
    """
    with ctx.uow() as uow:
        return view_of(*visible(uow.session, principal, number, version))


def revoke(ctx: ServiceContext, principal: Principal, number: str, reason: str) -> LicenceView:
    """Revoke (吊销/撤销) a valid licence (its latest version): heads of the issuing department and
    administrators.

    :raises LicenceNotFound: unknown or not visible.
    :raises Forbidden: not a head of the issuing department nor an administrator.
    :raises InvalidInput: no reason given.
    :raises Conflict: already revoked.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("请填写撤销理由 / a reason is required",
                           [{"field": "reason", "message": "请填写撤销理由 / a reason is required"}])
    with ctx.uow(write=True) as uow:
        s = uow.session
        licence, case = visible(s, principal, number, lock=True)
        if not may_revoke(s, principal, licence):
            raise Forbidden("只有发证部门负责人或管理员可撤销 / only the issuing department's head or an admin")
        if licence.state != "valid":
            raise Conflict(f"证照已是 {licence.state} 状态 / licence is {licence.state}")
        now = ctx.clock.now()
        licence.state, licence.revoked_at = "revoked", now
        licence.revoked_reason, licence.revoked_by_id = reason[:2000], principal.id
        s.flush()
        audit.record(s, principal, now, "licence.revoke", "licence", licence.number,
                     f"撤销 {licence.number} v{licence.version}", before={"state": "valid"},
                     after={"state": "revoked", "reason": reason[:500]})
        view = view_of(licence, case)
        uow.commit()
        return view


def may_revoke(s: Session, principal: Principal, licence: Licence) -> bool:
    dept = s.get(Department, licence.department_id)
    return principal.is_admin or (principal.has("head") and dept is not None and principal.department == dept.code)


def check(ctx: ServiceContext, number: str, presented_sig: str | None = None,
          presented: Mapping[str, Any] | None = None, *, client: str) -> Verdict:
    """The public verdict on a licence number, with what the visitor holds (the QR's signature, or the
    facts and signature embedded in a PDF). Unknown numbers count against the caller like /track.

    :raises LicenceNotFound: no licence with this number.
    :raises TooManyAttempts:
    """
    with attempt(ctx, (TRACK, client), counts=LicenceNotFound), ctx.uow() as uow:
        s = uow.session
        versions = list(s.scalars(select(Licence).where(Licence.number == number[:64]).order_by(Licence.version)))
        if not versions:
            raise LicenceNotFound("证照不存在 / licence not found")
        licence = _presented_version(versions, presented_sig, presented)
        view = view_of(licence, _case(s, licence))
        reasons = _tampering(s, licence, view, presented_sig, presented)
        today = ctx.clock.now().astimezone(CHINA_TZ).date()
        latest = versions[-1]
        current = view_of(latest, _case(s, latest)) if latest is not licence else None
        return Verdict(status=_status(licence, reasons, today), licence=view, reasons=tuple(reasons),
                       current=current)


def _presented_version(versions: list[Licence], sig: str | None, presented: Mapping[str, Any] | None) -> Licence:
    """The version the visitor holds: the one a PDF's facts name, or whose signature the QR carries; the
    latest when nothing names one (or nothing matches: then the check says tampered)."""
    if presented is not None:
        facts = presented.get("facts")
        wanted = facts.get("version") if isinstance(facts, Mapping) else None
        return next((v for v in versions if v.version == wanted), versions[-1])
    if sig is not None:
        short = sig.strip()[:16]
        return next((v for v in versions if hmac.compare_digest(short_signature(v.signature), short)), versions[-1])
    return versions[-1]


def _tampering(s: Session, licence: Licence, view: LicenceView, sig: str | None,
               presented: Mapping[str, Any] | None) -> list[str]:
    reasons = []
    key = s.scalar(select(DepartmentKey).where(DepartmentKey.key_id == licence.key_id))
    if key is None or not verify(key.public_key, canonical_json(view.facts), licence.signature):
        reasons.append("record")  # the stored facts are not what was signed
    if sig is not None and not hmac.compare_digest(short_signature(licence.signature), sig.strip()[:16]):
        reasons.append("signature")
    if presented is not None:
        same = (presented.get("facts") == view.facts
                and hmac.compare_digest(str(presented.get("signature") or ""), licence.signature))
        if not same:
            reasons.append("document")
    return reasons


def _status(licence: Licence, tampered: list[str], today: date) -> str:
    if tampered:
        return "tampered"
    if licence.state != "valid":
        return licence.state  # revoked or replaced
    if licence.valid_to is not None and licence.valid_to < today:
        return "expired"
    return "valid"


def visible(s: Session, principal: Principal, number: str, version: int | None = None,
             lock: bool = False) -> tuple[Licence, Case]:
    query = select(Licence).where(Licence.number == number[:64])
    query = (query.where(Licence.version == version) if version is not None
             else query.order_by(Licence.version.desc()).limit(1))
    licence = s.scalar(query.with_for_update() if lock else query)
    if licence is None or not may_see(s, principal, licence):
        raise LicenceNotFound("证照不存在 / licence not found")
    return licence, _case(s, licence)


def may_see(s: Session, principal: Principal, licence: Licence) -> bool:
    """Supervisors and administrators; clerks, approvers and heads of the issuing department; whoever may
    see a case that produced one of its versions (its applicants, staff involved); its holder."""
    if principal.sees_everything:
        return True
    if principal.has("clerk", "approver", "head"):
        dept = s.get(Department, licence.department_id)
        if dept is not None and principal.department == dept.code:
            return True
    cases = s.scalars(select(Case).join(Licence, Licence.case_id == Case.id).where(Licence.number == licence.number))
    if any(can_see_case(s, principal, c) for c in cases):
        return True
    user = s.get(User, principal.id)
    return bool(user and user.id_number and user.id_number.strip().upper() == licence.holder_id.strip().upper())


def _case(s: Session, licence: Licence) -> Case:
    case = s.get(Case, licence.case_id)
    assert case is not None
    return case


def view_of(licence: Licence, case: Case) -> LicenceView:
    item = case.item if case.item_id == licence.item_id else None
    s = Session.object_session(licence)
    assert s is not None
    item = item or s.get(Item, licence.item_id)
    dept = s.get(Department, licence.department_id)
    assert item is not None and dept is not None
    successor = s.get(Licence, licence.replaced_by_id) if licence.replaced_by_id else None
    return LicenceView(
        number=licence.number, version=licence.version, state=licence.state, case_no=case.case_no,
        facts=facts(licence, item, dept), signature=licence.signature,
        short_signature=short_signature(licence.signature), algorithm=licence.algorithm,
        payload_sha256=licence.payload_sha256, issued_at=licence.issued_at, revoked_at=licence.revoked_at,
        revoked_reason=licence.revoked_reason, replaced_at=licence.replaced_at,
        replaced_by_version=successor.version if successor else None)
