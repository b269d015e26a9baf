"""Delivery of the licence (送达): the applicant is told where to collect it or where it was mailed, and
the window records who collected it (领证回执).

`listener` runs in the issuance step's transaction after the licence listener (app/services/wiring.py), so
the delivery record carries the licence's number, automatic ones included. Messages go through
`milestones.notify`, whose dedupe key makes each one go out once: `licence_ready` once per case, and
`licence_mailed` once per tracking number, so a corrected number is told (the applicant needs the right
one) while recording the same number again tells nobody anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import CaseNotFound, Conflict, ErrorDetail, Forbidden, InvalidInput
from app.models import COLLECTOR_RELATIONS, DELIVERY_METHODS, Case, Item, Licence, LicenceDelivery, User
from app.services import audit
from app.services.casework.steps import SavedStep, add_event
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.identity import normalize_id, valid_resident_id
from app.services.identity.principal import Principal
from app.services.messaging import milestones

from .canonical import short_signature

TRACKING_PATTERN = r"^[A-Z0-9]{8,20}$"
RELATION_WORDS = {"本人": "self", "代领": "proxy"}  # the API takes the codes or the words on the form
ACTING_ROLES = ("clerk", "approver", "head")


@dataclass(frozen=True)
class PickupDefaults:
    """Where and when the window hands licences out when the item's guide does not say
    (settings BANJIAN_PICKUP_PLACE, BANJIAN_PICKUP_HOURS)."""

    place: str = ""
    hours: str = ""


@dataclass(frozen=True)
class LicenceSummary:
    number: str
    state: str
    licence_type: str
    issued_on: str
    valid_to: str | None
    short_signature: str


@dataclass(frozen=True)
class DeliveryView:
    """`status`: awaiting_pickup / collected / awaiting_mail / mailed."""

    case_no: str
    method: str
    status: str
    licence_no: str
    pickup_place: str
    pickup_hours: str
    mail_address: str
    carrier: str
    tracking_no: str | None
    ready_at: datetime
    mailed_at: datetime | None
    collected_at: datetime | None
    collector_name: str | None
    collector_id_masked: str | None
    collector_relation: str | None
    recorded_by: str | None
    recorded_by_staff_no: str | None


@dataclass(frozen=True)
class CaseDelivery:
    """A case's licence (the newest version) and its delivery; either may be None."""

    licence: LicenceSummary | None
    delivery: DeliveryView | None
    may_act: bool  # the principal may record the tracking number or the collection


# -- created with the issuance step -------------------------------------------------------------------


def listener(defaults: PickupDefaults) -> Callable[[ServiceContext, Session, SavedStep], None]:
    """The step listener; wire it after the licence listener."""
    def on_step(ctx: ServiceContext, s: Session, step: SavedStep) -> None:
        if "issued" in step.reached:
            open_delivery(ctx, s, step.case, step.data(), step.now, step.actor_id, defaults)
    return on_step


def open_delivery(ctx: ServiceContext, s: Session, case: Case, data: Mapping[str, Any], now: datetime,
                  actor_id: int | None, defaults: PickupDefaults) -> LicenceDelivery | None:
    """The case's delivery record, and the applicant told; None where no licence came of the step."""
    if s.scalar(select(LicenceDelivery.id).where(LicenceDelivery.case_id == case.id)) is not None:
        return None
    licence = s.scalar(select(Licence).where(Licence.case_id == case.id).order_by(Licence.id.desc()).limit(1))
    # Without a licence record of this case, only an issuance step that chose a delivery method delivers a
    # (paper) licence: an item that changes or cancels an existing licence has nothing to hand over.
    method = data.get("delivery_method")
    number = licence.number if licence is not None else _text(data.get("licence_no"), 64) if method in DELIVERY_METHODS else ""
    if not number:
        return None
    item = s.get(Item, case.item_id)
    guide = (item.guide if item is not None else None) or {}
    mail = method == "mail"
    tracking = _text(data.get("mail_tracking_no"), 32).upper() or None
    row = LicenceDelivery(
        case_id=case.id, licence_id=licence.id if licence is not None else None, licence_no=number,
        method="mail" if mail else "pickup",  # no method: an item handled on the spot hands it over at the window
        pickup_place="" if mail else _text(guide.get("pickup_place") or defaults.place or guide.get("location"), 300),
        pickup_hours="" if mail else _text(guide.get("pickup_hours") or defaults.hours or guide.get("office_hours"), 300),
        mail_address=_text(data.get("mail_address"), 300) if mail else "", carrier=_text(data.get("mail_carrier"), 64),
        tracking_no=tracking if mail else None, ready_at=now, mailed_at=now if mail and tracking else None,
        issued_by_id=actor_id, mailed_by_id=actor_id if mail and tracking else None)
    s.add(row)
    s.flush()
    if row.method == "pickup":
        milestones.notify(ctx, s, case, "licence_ready", _fields(row))
    elif row.tracking_no:
        milestones.notify(ctx, s, case, "licence_mailed", _fields(row), occurrence=row.tracking_no)
    return row


# -- recorded by staff later --------------------------------------------------------------------------


def record_tracking(ctx: ServiceContext, principal: Principal, case_no: str, carrier: str,
                    tracking_no: str) -> DeliveryView:
    """Record (or correct) the mail tracking number; the applicant is told once per number.

    :raises CaseNotFound: unknown or not visible.
    :raises Forbidden: not staff of the issuing department or the window that issued it.
    :raises InvalidInput: a tracking number not of 8-20 capital letters and digits, a carrier too long.
    :raises Conflict: no delivery yet, or the licence is not being mailed.
    """
    tracking_no, carrier = (tracking_no or "").strip().upper(), (carrier or "").strip()
    errors: list[ErrorDetail] = []
    if not re.fullmatch(TRACKING_PATTERN, tracking_no):
        errors.append({"field": "tracking_no", "message": "邮件单号为 8-20 位大写字母或数字 / 8-20 capital letters or digits"})
    if len(carrier) > 64:
        errors.append({"field": "carrier", "message": "最多 64 个字符 / at most 64 characters"})
    if errors:
        raise InvalidInput("邮寄信息有误 / invalid mail details", errors)
    with ctx.uow(write=True) as uow:
        s = uow.session
        case, row = _acting(ctx, s, principal, case_no)
        if row.method != "mail":
            raise Conflict("该证照为窗口领取，无需邮件单号 / the licence is collected at the window, not mailed")
        before = {"carrier": row.carrier, "tracking_no": row.tracking_no}
        if before == {"carrier": carrier, "tracking_no": tracking_no}:
            return _view(s, case, row)
        now = ctx.clock.now()
        row.carrier, row.tracking_no, row.mailed_by_id = carrier, tracking_no, principal.id
        row.mailed_at = row.mailed_at or now
        s.flush()
        audit.record(s, principal, now, "licence.mail", "licence", row.licence_no,
                     f"邮件单号 {tracking_no} / tracking number {tracking_no}", before,
                     {"carrier": carrier, "tracking_no": tracking_no})
        add_event(s, case, now, "delivered", principal.id, message=f"邮寄送达，邮件单号：{tracking_no}",
                  data_after={"delivery_method": "mail", "mail_tracking_no": tracking_no, "carrier": carrier,
                              "licence_no": row.licence_no})
        milestones.notify(ctx, s, case, "licence_mailed", _fields(row), occurrence=tracking_no)
        view = _view(s, case, row)
        uow.commit()
        return view


def record_collection(ctx: ServiceContext, principal: Principal, case_no: str, collector_name: str,
                      collector_id_number: str, relation: str) -> DeliveryView:
    """Record who collected the licence at the window (once); the pickup receipt prints it.

    :raises CaseNotFound: unknown or not visible.
    :raises Forbidden: not staff of the issuing department or the window that issued it.
    :raises InvalidInput: no name, an invalid resident ID number, an unknown relation.
    :raises Conflict: no delivery yet, mailed rather than collected, or already collected.
    """
    name, number = (collector_name or "").strip(), normalize_id(collector_id_number)
    code = RELATION_WORDS.get((relation or "").strip(), (relation or "").strip())
    errors: list[ErrorDetail] = []
    if not name or len(name) > 100:
        errors.append({"field": "collector_name", "message": "必填，最多 100 字 / required, at most 100 characters"})
    if not valid_resident_id(number, ctx.clock.now().astimezone(CHINA_TZ).date()):
        errors.append({"field": "collector_id_number", "message": "身份证号码无效（长度、出生日期或校验位） / not a valid "
                       "resident ID number (length, birth date or check character)"})
    if code not in COLLECTOR_RELATIONS:
        errors.append({"field": "relation", "message": "本人（self）或代领（proxy） / self or proxy"})
    if errors:
        raise InvalidInput("领证信息有误 / invalid collection details", errors)
    with ctx.uow(write=True) as uow:
        s = uow.session
        case, row = _acting(ctx, s, principal, case_no)
        if row.method != "pickup":
            raise Conflict("该证照为邮寄送达，不在窗口领取 / the licence is mailed, not collected at the window")
        if row.collected_at is not None:
            raise Conflict("证照已领取 / the licence has already been collected")
        now = ctx.clock.now()
        row.collected_at, row.collector_name, row.collector_id_number = now, name, number
        row.collector_relation, row.recorded_by_id = code, principal.id
        s.flush()
        audit.record(s, principal, now, "licence.collect", "licence", row.licence_no,
                     f"{name} 领取（{'本人' if code == 'self' else '代领'}） / collected by {name} ({code})",
                     None, {"collector_name": name, "collector_id_number": _masked(number), "relation": code})
        view = _view(s, case, row)
        uow.commit()
        return view


# -- reading ------------------------------------------------------------------------------------------


def for_case(ctx: ServiceContext, principal: Principal, case_no: str) -> CaseDelivery:
    """The case's licence and delivery as its applicant and staff who may see the case read them.

    :raises CaseNotFound: unknown or not visible.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or not can_see_case(s, principal, case):
            raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
        row = s.scalar(select(LicenceDelivery).where(LicenceDelivery.case_id == case.id))
        licence = s.scalar(select(Licence).where(Licence.case_id == case.id).order_by(Licence.id.desc()).limit(1))
        return CaseDelivery(
            licence=_licence(licence) if licence is not None else None,
            delivery=_view(s, case, row) if row is not None else None,
            may_act=row is not None and _may_act(s, principal, case, row))


def _acting(ctx: ServiceContext, s: Session, principal: Principal, case_no: str) -> tuple[Case, LicenceDelivery]:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or not (can_see_case(s, principal, case) or principal.is_staff):
        raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
    query = select(LicenceDelivery).where(LicenceDelivery.case_id == case.id)
    # Two windows recording at once: the second waits here and then sees the first one's record.
    row = s.scalar(query.with_for_update() if ctx.db.is_postgres else query)
    if row is None:
        if not can_see_case(s, principal, case):
            raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
        raise Conflict("办件尚未发证 / the licence has not been issued yet")
    if not _may_act(s, principal, case, row):
        if not can_see_case(s, principal, case):
            raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
        raise Forbidden("只有发证部门或出件窗口的工作人员可登记送达 / only staff of the issuing department or window")
    return case, row


def _may_act(s: Session, principal: Principal, case: Case, row: LicenceDelivery) -> bool:
    """Administrators; clerks, approvers and heads of the item's department or of the window whose clerk
    issued the licence (any clerk there hands licences out, not only the one who issued it)."""
    if principal.is_admin:
        return True
    if not principal.has(*ACTING_ROLES) or principal.department is None:
        return False
    issuer = s.get(User, row.issued_by_id) if row.issued_by_id is not None else None
    departments = {case.item.department.code if case.item and case.item.department else None,
                   issuer.department.code if issuer is not None and issuer.department is not None else None}
    return principal.department in departments


def _view(s: Session, case: Case, row: LicenceDelivery) -> DeliveryView:
    clerk = s.get(User, row.recorded_by_id) if row.recorded_by_id is not None else None
    if row.method == "pickup":
        status = "collected" if row.collected_at else "awaiting_pickup"
    else:
        status = "mailed" if row.tracking_no else "awaiting_mail"
    return DeliveryView(
        case_no=case.case_no, method=row.method, status=status, licence_no=row.licence_no,
        pickup_place=row.pickup_place, pickup_hours=row.pickup_hours, mail_address=row.mail_address,
        carrier=row.carrier, tracking_no=row.tracking_no, ready_at=row.ready_at, mailed_at=row.mailed_at,
        collected_at=row.collected_at, collector_name=row.collector_name,
        collector_id_masked=_masked(row.collector_id_number) if row.collector_id_number else None,
        collector_relation=row.collector_relation,
        recorded_by=(clerk.full_name or clerk.username) if clerk is not None else None,
        recorded_by_staff_no=clerk.staff_no if clerk is not None else None)


def _licence(licence: Licence) -> LicenceSummary:
    return LicenceSummary(
        number=licence.number, state=licence.state, licence_type=licence.licence_type,
        issued_on=licence.issued_on.isoformat(), valid_to=licence.valid_to.isoformat() if licence.valid_to else None,
        short_signature=short_signature(licence.signature))


def _fields(row: LicenceDelivery) -> dict[str, Any]:
    return {"licence_no": row.licence_no, "pickup_place": row.pickup_place, "pickup_hours": row.pickup_hours,
            "carrier": row.carrier, "tracking_no": row.tracking_no or "", "mail_address": row.mail_address}


def _masked(number: str) -> str:
    """A resident ID number as receipts print it: region and check digits kept, the birth date hidden."""
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:] if len(number) > 10 else number


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value).strip()[:limit]
