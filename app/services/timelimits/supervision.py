"""Supervision orders (督办单): a supervisor asks a department that handles a case to answer for it by a
date; the department's head or approver replies; the supervisor closes the order. An order still
unanswered at the end of its reply day fires one red alarm (the scheduler's `sweep_orders`), found by the
indexed `reply_check_at`, never by scanning open orders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import CaseNotFound, Conflict, Forbidden, InvalidInput, NotFound
from app.models import Alarm, Case, CaseClock, SupervisionOrder, User
from app.services.casework.timers import RETRY_AFTER_FAILURE, postpone_item
from app.services.context import ServiceContext
from app.services.events import log_event
from app.services.identity.principal import Principal
from app.services.messaging import notifications
from app.services.paging import LAST_DATE, Page, offset, window
from app.services.timelimits import alarms
from app.workdays import as_date, end_of_day

# Each item runs in a savepoint: PostgreSQL caches 64 subtransactions per transaction before every
# session's visibility checks slow down, so a batch stays below that.
BATCH = 50
PER_PAGE = 20
log = logging.getLogger(__name__)


class OrderNotFound(NotFound):
    pass


@dataclass
class OrderSweep:
    checked: int = 0
    alarms: int = 0


def issue_order(ctx: ServiceContext, principal: Principal, case_no: str, department: str, reason: str,
                reply_by: date) -> dict[str, Any]:
    """Issue a supervision order to a department that handles the case.

    :raises Forbidden: not a supervisor or administrator. :raises CaseNotFound: no such case.
    :raises InvalidInput: a department that does not handle the case, no reason, a reply date not after today.
    """
    if not principal.has("supervisor", "admin"):
        raise Forbidden("只有电子监察人员可以下发督办单 / only supervisors may issue supervision orders")
    reason = (reason or "").strip()
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        case = s.scalar(select(Case).where(Case.case_no == (case_no or "").strip()))
        if case is None:
            raise CaseNotFound(f"没有这个办件 / no case {case_no}",
                               [{"field": "case_no", "message": "no such case"}])
        errors = []
        # The item's departments, and any other a limit of this case runs for (a step routed to a department
        # by the case's data, e.g. the rated department's 整改 in a rectification case).
        clocked = s.scalars(select(CaseClock.department).where(CaseClock.case_id == case.id,
                                                               CaseClock.department.is_not(None)))
        handling = list(dict.fromkeys([*case.item.handling_departments, *(d for d in clocked if d)]))
        if department not in handling:
            errors.append({"field": "department", "message": f"one of the case's departments: {', '.join(handling)}"})
        if not reason:
            errors.append({"field": "reason", "message": "required"})
        if not isinstance(reply_by, date) or reply_by <= as_date(now):
            errors.append({"field": "reply_by", "message": "a date after today"})
        elif reply_by > LAST_DATE:
            errors.append({"field": "reply_by", "message": f"a date up to {LAST_DATE.isoformat()}"})
        if errors:
            raise InvalidInput("督办单信息不完整 / invalid supervision order", errors)
        due = end_of_day(reply_by)
        order = SupervisionOrder(case_id=case.id, department=department, reason=reason[:2000], reply_by=due,
                                 state="open", issued_by=principal.id, issued_at=now, reply_check_at=due)
        s.add(order)
        s.flush()
        log_event(s, case.id, now, "supervision_order", principal.id, message=order.reason,
                  data_after={"order_id": order.id, "department": department, "reply_by": reply_by.isoformat()})
        notifications.notify_groups(
            s, now, [f"{department}.head", f"{department}.approver"], "supervision_order",
            f"督办单：{case.case_no}", f"请于 {reply_by.isoformat()} 前回复：{order.reason}", case_id=case.id,
            link=f"/supervision/orders/{order.id}", dedupe_key=f"order:{order.id}:issued")
        uow.commit()
        return _view(order, case.case_no)


def reply_order(ctx: ServiceContext, principal: Principal, order_id: int, reply: str) -> dict[str, Any]:
    """The department's head or approver answers an open order; its overdue alarm, if any, is cleared.

    :raises OrderNotFound: no such order, or another department's. :raises Forbidden: not head/approver.
    :raises Conflict: already replied or closed. :raises InvalidInput: an empty reply.
    """
    reply = (reply or "").strip()
    if not reply:
        raise InvalidInput("请填写回复 / a reply is required", [{"field": "reply", "message": "required"}])
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        order = _locked(ctx, s, order_id)
        if order is None or not (principal.sees_everything or principal.department == order.department):
            raise OrderNotFound(f"没有这张督办单 / no supervision order {order_id}")
        if not (principal.has("head", "approver") and principal.department == order.department):
            raise Forbidden("只有被督办部门的负责人或审批人员可以回复 / only the department's head or approver may reply")
        if order.state != "open":
            raise Conflict("该督办单已回复或已办结 / already replied or closed")
        order.state, order.reply, order.replied_by, order.replied_at = "replied", reply[:4000], principal.id, now
        order.reply_check_at = None
        s.execute(update(Alarm).where(Alarm.order_id == order.id, Alarm.cleared_at.is_(None)).values(cleared_at=now),
                  execution_options={"synchronize_session": False})
        case_no = _case_no(s, order.case_id)
        log_event(s, order.case_id, now, "order_replied", principal.id, message=order.reply,
                  data_after={"order_id": order.id})
        notifications.notify(s, now, [order.issued_by], "order_reply", f"督办单已回复：{case_no}", order.reply,
                             case_id=order.case_id, link=f"/supervision/orders/{order.id}",
                             dedupe_key=f"order:{order.id}:replied")
        uow.commit()
        return _view(order, case_no)


def close_order(ctx: ServiceContext, principal: Principal, order_id: int) -> dict[str, Any]:
    """A supervisor closes an order (replied or not). :raises Forbidden: not a supervisor.
    :raises Conflict: already closed."""
    if not principal.has("supervisor", "admin"):
        raise Forbidden("只有电子监察人员可以办结督办单 / only supervisors may close supervision orders")
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        order = _locked(ctx, s, order_id)
        if order is None:
            raise OrderNotFound(f"没有这张督办单 / no supervision order {order_id}")
        if order.state == "closed":
            raise Conflict("该督办单已办结 / already closed")
        order.state, order.closed_at, order.reply_check_at = "closed", now, None
        s.execute(update(Alarm).where(Alarm.order_id == order.id, Alarm.cleared_at.is_(None)).values(cleared_at=now),
                  execution_options={"synchronize_session": False})
        log_event(s, order.case_id, now, "order_closed", principal.id, data_after={"order_id": order.id})
        uow.commit()
        return _view(order, _case_no(s, order.case_id))


def get_order(ctx: ServiceContext, principal: Principal, order_id: int) -> dict[str, Any]:
    """One order: supervisors see every order, department staff their department's."""
    with ctx.uow() as uow:
        s = uow.session
        order = s.get(SupervisionOrder, order_id)
        if order is None or not _may_see(principal, order.department):
            raise OrderNotFound(f"没有这张督办单 / no supervision order {order_id}")
        view = _view(order, _case_no(s, order.case_id))
        names = dict(s.execute(select(User.id, User.full_name).where(
            User.id.in_([i for i in (order.issued_by, order.replied_by) if i]))).all())
        view["issued_by_name"] = names.get(order.issued_by)
        view["replied_by_name"] = names.get(order.replied_by) if order.replied_by else None
        view["may_reply"] = order.state == "open" and principal.has("head", "approver") \
            and principal.department == order.department
        view["may_close"] = order.state != "closed" and principal.has("supervisor", "admin")
        return view


def list_orders(ctx: ServiceContext, principal: Principal, state: str | None = None, department: str | None = None,
                page: int = 1, per_page: int = PER_PAGE) -> Page[dict[str, Any]]:
    """Orders newest first: supervisors and administrators see all, department staff their own department's.

    :raises Forbidden: not staff. :raises InvalidInput: an unknown state.
    """
    if not principal.is_staff:
        raise Forbidden("仅限工作人员 / staff only")
    if state not in (None, "open", "replied", "closed"):
        raise InvalidInput("state", [{"field": "state", "message": "open, replied or closed"}])
    page, per_page = window(page, per_page)
    with ctx.uow() as uow:
        s = uow.session
        query = select(SupervisionOrder, Case.case_no).join(Case, Case.id == SupervisionOrder.case_id)
        if not principal.sees_everything:
            query = query.where(SupervisionOrder.department == (principal.department or ""))
        elif department:
            query = query.where(SupervisionOrder.department == department)
        if state:
            query = query.where(SupervisionOrder.state == state)
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(SupervisionOrder.issued_at.desc(), SupervisionOrder.id.desc())
                         .limit(per_page).offset(offset(page, per_page))).all()
        return Page([_view(o, no) for o, no in rows], page, per_page, total)


def sweep_orders(ctx: ServiceContext, now: datetime | None = None, batch: int = BATCH,
                 max_batches: int = 10_000) -> OrderSweep:
    """Fire one red alarm for every open order whose reply day has passed; returns what was done.
    Each order is handled in its own savepoint: one that fails (any exception) rolls back alone, gets an
    incident on its case and is checked again after RETRY_AFTER_FAILURE; the others go on."""
    now = now or ctx.clock.now()
    result = OrderSweep()
    skip: set[int] = set()  # orders whose failure could not be recorded: left to the next tick
    for _ in range(max_batches):
        with ctx.uow(write=True) as uow:
            s = uow.session
            query = (select(SupervisionOrder).where(SupervisionOrder.reply_check_at <= now,
                                                    SupervisionOrder.state == "open")
                     .order_by(SupervisionOrder.reply_check_at).limit(batch))
            if skip:
                query = query.where(SupervisionOrder.id.not_in(skip))
            if ctx.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            claimed = list(s.scalars(query))
            if not claimed:
                break
            for order in claimed:
                result.alarms += _sweep_one(ctx, s, order, now, skip)
            uow.commit()
        result.checked += len(claimed)
        if len(claimed) < batch:
            break
    return result


def _sweep_one(ctx: ServiceContext, s: Session, order: SupervisionOrder, now: datetime, skip: set[int]) -> int:
    order_id, case_id = order.id, order.case_id  # plain values: a rolled-back savepoint expires the row
    try:
        with s.begin_nested():
            fired = _fire_overdue(ctx, s, order, now)
            order.reply_check_at = None
            s.flush()
            return fired
    except Exception as exc:  # noqa: BLE001  (one bad order must not stop the others)
        failure = exc
    postpone_item(s, case_id, now, f"orders (order {order_id})", failure,
                  update(SupervisionOrder).where(SupervisionOrder.id == order_id)
                  .values(reply_check_at=now + RETRY_AFTER_FAILURE), "order", skip, order_id)
    return 0


def _fire_overdue(ctx: ServiceContext, s: Session, order: SupervisionOrder, now: datetime) -> int:
    key = f"order:{order.id}:overdue"
    fired = bool(alarms.insert_once(ctx, s, [{
        "key": key, "kind": "order", "level": "red", "case_id": order.case_id, "order_id": order.id,
        "department": order.department, "message": f"督办单逾期未回复：{order.reason[:200]}",
        "due_at": order.reply_by, "fired_at": now}]))
    if fired:
        case_no = _case_no(s, order.case_id)
        title, body = f"督办单逾期未回复：{case_no}", f"应于 {as_date(order.reply_by).isoformat()} 前回复：{order.reason}"
        link = f"/supervision/orders/{order.id}"
        notifications.notify_groups(s, now, [f"{order.department}.head"], "alarm", title, body,
                                    case_id=order.case_id, link=link, dedupe_key=key)
        notifications.notify(s, now, [order.issued_by], "alarm", title, body, case_id=order.case_id, link=link,
                             dedupe_key=key)
    return int(fired)


def _locked(ctx: ServiceContext, s: Session, order_id: int) -> SupervisionOrder | None:
    query = select(SupervisionOrder).where(SupervisionOrder.id == order_id)
    if ctx.db.is_postgres:
        query = query.with_for_update()
    return s.scalar(query)


def _may_see(principal: Principal, department: str) -> bool:
    return principal.sees_everything or (principal.is_staff and principal.department == department)


def _case_no(s: Session, case_id: int) -> str:
    return str(s.scalar(select(Case.case_no).where(Case.id == case_id)))


def _view(o: SupervisionOrder, case_no: str) -> dict[str, Any]:
    return {"id": o.id, "case_no": case_no, "department": o.department, "reason": o.reason,
            "reply_by": as_date(o.reply_by).isoformat(), "state": o.state, "issued_by": o.issued_by,
            "issued_at": o.issued_at, "reply": o.reply, "replied_by": o.replied_by, "replied_at": o.replied_at,
            "closed_at": o.closed_at, "overdue": o.state == "open" and o.reply_check_at is None}
