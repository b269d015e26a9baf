"""Reading, verifying and revoking licences.

Verification recomputes the canonical facts from the stored row and checks the signature with the key
that signed it (retired keys included), so an edit of any signed column in the database shows as
tampered; a presented signature (the QR's short form) or a presented PDF's embedded facts must match the
record too. Revocation is not a fact of the licence and does not break the signature.
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
from app.models import Case, Department, DepartmentKey, Item, Licence
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


@dataclass(frozen=True)
class Verdict:
    """`status`: valid / expired / revoked / tampered; `licence` as the record holds it."""

    status: str
    licence: LicenceView
    reasons: tuple[str, ...] = ()


def get(ctx: ServiceContext, principal: Principal, number: str) -> LicenceView:
    """A licence for staff who may see its case, or its applicant.

    :raises LicenceNotFound: unknown or not visible (no hint which).
    """
    with ctx.uow() as uow:
        return _view(*_visible(uow.session, principal, number))


def revoke(ctx: ServiceContext, principal: Principal, number: str, reason: str) -> LicenceView:
    """Revoke (吊销/撤销) a valid licence: heads of the issuing department and administrators.

    :raises LicenceNotFound: unknown or not visible.
    :raises Forbidden: not a head of the issuing department nor an administrator.
    :raises InvalidInput: no reason given.
    :raises Conflict: already revoked or replaced.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("请填写撤销理由 / a reason is required")
    with ctx.uow(write=True) as uow:
        s = uow.session
        licence, case = _visible(s, principal, number, lock=True)
        dept = s.get(Department, licence.department_id)
        if not (principal.is_admin or (principal.has("head") and dept is not None
                                       and principal.department == dept.code)):
            raise Forbidden("只有发证部门负责人或管理员可撤销 / only the issuing department's head or an admin")
        if licence.state != "valid":
            raise Conflict(f"证照已是 {licence.state} 状态 / licence is {licence.state}")
        licence.state, licence.revoked_at = "revoked", ctx.clock.now()
        licence.revoked_reason, licence.revoked_by_id = reason[:2000], principal.id
        s.flush()
        view = _view(licence, case)
        uow.commit()
        return view


def check(ctx: ServiceContext, number: str, presented_sig: str | None = None,
          presented: Mapping[str, Any] | None = None, *, client: str) -> Verdict:
    """The public verdict on a licence number, with what the visitor holds (the QR's signature, or the
    facts and signature embedded in a PDF). Unknown numbers count against the caller like /track.

    :raises LicenceNotFound: no licence with this number.
    :raises TooManyAttempts:
    """
    with attempt(ctx, (TRACK, client), counts=LicenceNotFound), ctx.uow() as uow:
        s = uow.session
        licence = s.scalar(select(Licence).where(Licence.number == number[:64]))
        if licence is None:
            raise LicenceNotFound("证照不存在 / licence not found")
        case = s.get(Case, licence.case_id)
        assert case is not None
        view = _view(licence, case)
        reasons = _tampering(s, licence, view, presented_sig, presented)
        today = ctx.clock.now().astimezone(CHINA_TZ).date()
        return Verdict(status=_status(licence, reasons, today), licence=view, reasons=tuple(reasons))


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


def _visible(s: Session, principal: Principal, number: str, lock: bool = False) -> tuple[Licence, Case]:
    query = select(Licence).where(Licence.number == number[:64])
    licence = s.scalar(query.with_for_update() if lock else query)
    case = s.get(Case, licence.case_id) if licence is not None else None
    if licence is None or case is None or not can_see_case(s, principal, case):
        raise LicenceNotFound("证照不存在 / licence not found")
    return licence, case


def _view(licence: Licence, case: Case) -> LicenceView:
    item = case.item if case.item_id == licence.item_id else None
    s = Session.object_session(licence)
    assert s is not None
    item = item or s.get(Item, licence.item_id)
    dept = s.get(Department, licence.department_id)
    assert item is not None and dept is not None
    return LicenceView(
        number=licence.number, version=licence.version, state=licence.state, case_no=case.case_no,
        facts=facts(licence, item, dept), signature=licence.signature,
        short_signature=short_signature(licence.signature), algorithm=licence.algorithm,
        payload_sha256=licence.payload_sha256, issued_at=licence.issued_at, revoked_at=licence.revoked_at,
        revoked_reason=licence.revoked_reason)
