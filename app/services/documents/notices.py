"""Written notices and receipts issued as a case moves (收件回执, 补正告知书, 受理通知书, ...).

`after_step` is called after `casework.steps.save_step` inside the step's transaction, after the projections
are written, whenever the case was created or its status moved. It runs inside every such step, so it
decides from the statuses alone whether anything is due and only then reads what that notice needs.

A notice's `content` is frozen at issue time: everything the printable page shows (item name, limits,
organ, deficiencies, reasons) is copied in, so a later edit of the item never changes an issued notice.

Issuance by mail produces no receipt: the tracking number goes into the case log as a "delivered" event
(送达记录: message "邮寄送达，邮件单号：…", data_after with the method, tracking and licence numbers), which
the case history shows. Issuance with no delivery method but a licence number (an item handled on the spot,
即办件) hands the licence over at the window, so it gets a pickup receipt too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from app.clock import CHINA_TZ
from app.engine.runtime import StepResult
from app.errors import CaseNotFound, NotFound
from app.models import (
    NOTICE_KINDS,
    Case,
    CaseCounter,
    CaseEvent,
    CaseFile,
    Item,
    ItemTerms,
    Notice,
    User,
    case_terms,
)
from app.services.casework.steps import SavedStep
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal
from app.workdays import WorkCalendar

# Number prefixes: 收件 SJ, 补正 BZ, 受理 SL, 不予受理 BSL, 领证 LZ, 决定 JD.
PREFIXES = {"receipt": "SJ", "correction": "BZ", "acceptance": "SL", "refusal": "BSL", "pickup": "LZ",
            "decision": "JD", "suspension": "TB", "extension": "YQ"}
# Notice sequences live in the case counter table under their own keys, apart from any item's case prefix.
COUNTER_KEY = "notice:"


class NoticeNotFound(NotFound):
    pass


@dataclass(frozen=True)
class StatusChange:
    """`before`: the status when the step began (None for a new case); `reached`: the statuses the
    case passed through in this step, in order; `result`: the engine nodes passed."""

    before: str | None
    reached: list[str]
    result: StepResult


@dataclass(frozen=True)
class NoticeView:
    id: int
    case_no: str
    kind: str
    number: str
    title: str
    content: dict[str, Any]
    issued_at: datetime
    issued_by: str | None
    issued_by_staff_no: str | None
    read_at: datetime | None


def on_step(ctx: ServiceContext, s: Session, step: SavedStep) -> None:
    """Step listener: a new case or a status reached may call for a notice (receipt, acceptance, ...)."""
    if step.new or step.reached:
        after_step(s, ctx.calendar.get(s), step.case, StatusChange(step.before, step.reached, step.result),
                   step.data, step.now, step.actor_id)


def after_step(s: Session, cal: WorkCalendar, case: Case, change: StatusChange,
               data: Callable[[], Mapping[str, Any]], now: datetime, actor_id: int | None) -> None:
    """Issue the notices this change calls for; nothing at all (no query) when none is due."""
    due = _due(case, change)
    if not due:
        return
    issuing = _Issuing(s, cal, case, data, now, actor_id)
    for kind in due:
        if kind == "delivery":
            issuing.record_delivery()
        elif kind == "grant":
            issuing.issue_grant()
        else:
            issuing.issue(kind)


def issue_notice(s: Session, cal: WorkCalendar, case: Case, kind: str, content: Mapping[str, Any],
                 now: datetime, actor_id: int | None) -> Notice:
    """Issue a written notice outside a step (特别程序告知书, 延长审查期限告知书); content is frozen in it."""
    notice = _Issuing(s, cal, case, dict, now, actor_id).issue_with(kind, content)
    s.flush()
    return notice


def _due(case: Case, change: StatusChange) -> list[str]:
    due = ["receipt"] if change.before is None else []
    reached = change.reached
    if "correction" in reached:
        due.append("correction")
    if "accepted" in reached:
        due.append("acceptance")
    if "refused" in reached:
        due.append("refusal" if case.accepted_at is None else "decision")
    elif "decided" in reached and change.before != "decided":
        due.append("grant")  # 准予行政许可决定书: a decision notice whose content says "grant"
    if "issued" in reached:
        due.append("delivery")  # a pickup receipt or a mail record, by the data
    # Read last: a step that calls for no notice reads nothing of the case. A case the system started for
    # itself (差评整改) has no applicant's papers.
    return due if due and case.channel != "internal" else []


class _Issuing:
    """One step's notices: reads the item, the issuer and the process data at most once each."""

    def __init__(self, s: Session, cal: WorkCalendar, case: Case, data: Callable[[], Mapping[str, Any]],
                 now: datetime, actor_id: int | None) -> None:
        self.s, self.cal, self.case, self.now, self.actor_id = s, cal, case, now, actor_id
        self._data_fn = data

    @cached_property
    def data(self) -> Mapping[str, Any]:
        return self._data_fn()  # deserializing the process data: only for the kinds that need it

    def issue(self, kind: str) -> Notice:
        content = {**self._common(kind), **getattr(self, f"_{kind}")()}  # _receipt, _correction, ...
        notice = Notice(case_id=self.case.id, kind=kind, number=next_number(self.s, kind, self.now),
                        content=content, issued_by_id=self.actor_id, issued_at=self.now)
        self.s.add(notice)
        return notice

    def issue_with(self, kind: str, content: Mapping[str, Any]) -> Notice:
        """A notice whose particulars the caller supplies (special procedures, extensions)."""
        self._extra = dict(content)
        return self.issue(kind)

    def issue_grant(self) -> None:
        """The grant decision, once per case; the issuance task repeats the `decided` status, and a
        decision other than grant (or none recorded) issues nothing here."""
        if str(self.data.get("decision") or "") != "grant":
            return
        if self.s.scalar(select(Notice.id).where(Notice.case_id == self.case.id, Notice.kind == "decision")):
            return
        self.issue("decision")

    def _suspension(self) -> dict[str, Any]:
        return self._extra

    def _extension(self) -> dict[str, Any]:
        return self._extra

    def record_delivery(self) -> None:
        method = self.data.get("delivery_method")
        if method == "mail":
            tracking = str(self.data.get("mail_tracking_no") or "").strip()
            if not tracking:
                return  # recorded later on the case page, which logs it then (licensing/delivery.py)
            self.s.execute(insert(CaseEvent.__table__).values(
                case_id=self.case.id, at=self.now, actor_id=self.actor_id, action="delivered",
                message=f"邮寄送达，邮件单号：{tracking}",
                data_after={"delivery_method": "mail", "mail_tracking_no": tracking,
                            "licence_no": _text(self.data.get("licence_no"))}))
        elif method == "pickup" or (method is None and self.data.get("licence_no")):
            # No delivery method: an item handled on the spot (即办件) hands the licence over at the window.
            self.issue("pickup")

    # -- content ---------------------------------------------------------------------------------

    def _common(self, kind: str) -> dict[str, Any]:
        item, case = self._item, self.case
        guide = item.guide or {}
        return {
            "title": NOTICE_KINDS[kind], "case_no": case.case_no, "item_code": item.code, "item_name": item.name,
            "applicant_name": self._applicant.full_name or self._applicant.username,
            "received_at": _iso(case.received_at), "issued_on": _day(self.now).isoformat(),
            "organ": guide.get("implementing_agency") or item.department.name,
            "department_name": item.department.name, "accepting_agency": guide.get("accepting_agency") or "",
            "location": guide.get("location") or "", "phone": guide.get("phone") or "",
            "issuer": self._issuer,
        }

    def _receipt(self) -> dict[str, Any]:
        item = self._terms
        received = self.case.received_at or self.now
        return {
            "materials": self._materials(), "case_kind": item.case_kind,
            "promised_limit": item.promised_limit, "statutory_limit": item.statutory_limit,
            "limit_unit": item.limit_unit,
            # 《行政许可法》第三十二条: a correction notice within five days, or the case counts as accepted.
            "correction_notice_by": self.cal.limit_end(received, 5, "wd").isoformat(),
            "office_hours": (self._item.guide or {}).get("office_hours") or "",
        }

    def _correction(self) -> dict[str, Any]:
        rounds = self.s.scalar(select(func.count()).select_from(Notice).where(
            Notice.case_id == self.case.id, Notice.kind == "correction")) or 0
        deficiencies = [{"material": _text(d.get("material")), "requirement": _text(d.get("requirement"))}
                        for d in self.data.get("deficiencies") or [] if isinstance(d, Mapping)]
        return {"round": rounds + 1, "deficiencies": deficiencies,
                "deadline": _date_text(self.data.get("correction_deadline"))}

    def _acceptance(self) -> dict[str, Any]:
        item = self._terms
        accepted = self.case.accepted_at or self.now
        return {
            "accepted_on": _day(accepted).isoformat(), "limit_unit": item.limit_unit,
            "promised_limit": item.promised_limit, "statutory_limit": item.statutory_limit,
            "promised_deadline": self.cal.limit_end(accepted, item.promised_limit, item.limit_unit).isoformat(),
            "statutory_deadline": self.cal.limit_end(accepted, item.statutory_limit, item.limit_unit).isoformat(),
        }

    def _refusal(self) -> dict[str, Any]:
        return {"reason": _text(self.data.get("refusal_reason"))}

    def _decision(self) -> dict[str, Any]:
        data = self.data
        if data.get("decision") == "grant" and self.case.status != "refused":
            guide = self._item.guide or {}
            return {"result": "grant", "title": "准予行政许可决定书",
                    "reason": _text(data.get("decision_reason")),
                    "licence_name": guide.get("result_name") or self._item.name,
                    "accepted_on": _day(self.case.accepted_at).isoformat() if self.case.accepted_at else None}
        reason = data.get("decision_reason") if data.get("decision") == "refuse" else None
        return {"result": "refuse", "reason": _text(reason or data.get("refusal_reason") or data.get("decision_reason")),
                "accepted_on": _day(self.case.accepted_at).isoformat() if self.case.accepted_at else None}

    def _pickup(self) -> dict[str, Any]:
        return {"licence_no": _text(self.data.get("licence_no")),
                "licence_name": (self._item.guide or {}).get("result_name") or self._item.name,
                "issue_date": _date_text(self.data.get("issue_date")) or _day(self.now).isoformat(),
                "delivery_method": "pickup"}

    def _materials(self) -> list[dict[str, Any]]:
        """The item's materials as they stand at receipt, with whatever files are already on the case."""
        files: dict[str, list[str]] = {}
        for material, filename in self.s.execute(
                select(CaseFile.material, CaseFile.filename)
                .where(CaseFile.case_id == self.case.id, CaseFile.superseded_at.is_(None)).order_by(CaseFile.id)):
            files.setdefault(material, []).append(filename)
        listed = [{"name": m["name"], "required": bool(m.get("required")), "files": files.pop(m["name"], [])}
                  for m in self._terms.materials if isinstance(m, dict) and m.get("name")]
        return listed + [{"name": name, "required": False, "files": names} for name, names in files.items()]

    # -- what several kinds read, loaded once ------------------------------------------------------

    @cached_property
    def _item(self) -> Item:
        item = self.s.get(Item, self.case.item_id, options=[joinedload(Item.department)])
        assert item is not None
        return item

    @cached_property
    def _terms(self) -> ItemTerms:
        """Limits and materials of the item revision the case started with."""
        return case_terms(self.case)

    @cached_property
    def _applicant(self) -> User:
        user = self.s.get(User, self.case.applicant_id)
        assert user is not None
        return user

    @cached_property
    def _issuer(self) -> dict[str, Any] | None:
        """The staff member who issued it (name, staff number); None for the applicant's own online filing."""
        user = self.s.get(User, self.actor_id, options=[joinedload(User.department)]) if self.actor_id else None
        if user is None or user.role == "applicant":
            return None
        return {"name": user.full_name or user.username, "staff_no": user.staff_no or "",
                "department": user.department.name if user.department else ""}


def next_number(s: Session, kind: str, now: datetime) -> str:
    """文书编号: prefix + yyyymmdd (China time) + a six-digit daily sequence, e.g. BZ20261123000003."""
    prefix = PREFIXES[kind]
    day = _day(now).strftime("%Y%m%d")
    insert_ = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert_(CaseCounter).values(prefix=COUNTER_KEY + prefix, day=day, last=1)
            .on_conflict_do_update(index_elements=["prefix", "day"], set_={"last": CaseCounter.last + 1})
            .returning(CaseCounter.last))
    seq = s.execute(stmt).scalar_one()
    return f"{prefix}{day}{seq:06d}"


# -- reading ---------------------------------------------------------------------------------------


def for_case(ctx: ServiceContext, principal: Principal, case_no: str) -> list[NoticeView]:
    """The notices of a case, oldest first.

    :raises CaseNotFound: unknown, or not visible to this user.
    """

    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or not can_see_case(s, principal, case):
            raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
        rows = s.scalars(select(Notice).options(joinedload(Notice.issued_by))
                         .where(Notice.case_id == case.id).order_by(Notice.id))
        return [notice_view(n, case.case_no) for n in rows]


def get_notice(ctx: ServiceContext, principal: Principal, notice_id: int) -> NoticeView:
    """One notice, for its case's applicant or staff who may see the case.

    :raises NoticeNotFound: unknown, or not visible to this user (no hint which).
    """
    with ctx.uow() as uow:
        notice, case = _visible(uow.session, principal, notice_id)
        return notice_view(notice, case.case_no)


def mark_read(ctx: ServiceContext, principal: Principal, notice_id: int) -> NoticeView:
    """Record that the applicant opened the notice (the first time only); staff opening it change nothing.

    :raises NoticeNotFound: unknown, or not visible to this user.
    """
    with ctx.uow(write=True) as uow:
        notice, case = _visible(uow.session, principal, notice_id)
        if case.applicant_id == principal.id and notice.read_at is None:
            notice.read_at = ctx.clock.now()
            uow.session.flush()
        view = notice_view(notice, case.case_no)
        uow.commit()
        return view


def open_notice(ctx: ServiceContext, principal: Principal, notice_id: int) -> NoticeView:
    """A notice as its page shows it: read by anyone who may see it, marked read when its applicant
    opens it (only then is a write transaction taken).

    :raises NoticeNotFound:
    """
    with ctx.uow() as uow:
        notice, case = _visible(uow.session, principal, notice_id)
        view = notice_view(notice, case.case_no)
        unread_own = case.applicant_id == principal.id and notice.read_at is None
    return mark_read(ctx, principal, notice_id) if unread_own else view


def _visible(s: Session, principal: Principal, notice_id: int) -> tuple[Notice, Case]:

    notice = s.get(Notice, notice_id, options=[joinedload(Notice.issued_by)])
    case = s.get(Case, notice.case_id) if notice is not None else None
    if notice is None or case is None or not can_see_case(s, principal, case):
        raise NoticeNotFound("文书不存在 / notice not found")
    return notice, case


def notice_view(notice: Notice, case_no: str) -> NoticeView:
    issuer = notice.issued_by
    staff = issuer is not None and issuer.role != "applicant"
    return NoticeView(
        id=notice.id, case_no=case_no, kind=notice.kind, number=notice.number,
        title=str(notice.content.get("title") or NOTICE_KINDS.get(notice.kind, notice.kind)),
        content=dict(notice.content), issued_at=notice.issued_at,
        issued_by=(issuer.full_name or issuer.username) if issuer is not None and staff else None,
        issued_by_staff_no=issuer.staff_no if issuer is not None and staff else None, read_at=notice.read_at)


# -- small helpers ---------------------------------------------------------------------------------


def _day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date() if moment.tzinfo else moment.date()


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(CHINA_TZ).isoformat(timespec="minutes") if moment else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date_text(value: Any) -> str | None:
    """A date the process data holds (a date, a datetime or an ISO string) as yyyy-mm-dd; None if absent."""
    if isinstance(value, datetime):
        return _day(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _text(value)
    return text[:10] or None
