"""What staff do to a case's decision clock: special procedures (特别程序, Art. 45) stop it, an
extension (延期, Art. 42) lengthens it once with the department head's approval; and what everyone reads:
a case's clocks and the open alarms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine.runtime import EngineFailure, StepResult
from app.errors import CaseNotFound, Conflict, Forbidden, InvalidInput, NotFound, ProcessError
from app.models import PROCEDURES, Alarm, Case, CaseClock, ClockExtension, ClockSuspension, HumanTask, Item
from app.services.casework.cases import record_incident
from app.services.casework.processes import bundle_for
from app.services.casework.steps import SavedStep, lock_case, save_step
from app.services.context import ServiceContext
from app.services.documents.notices import issue_notice
from app.services.events import log_event
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal
from app.services.messaging import milestones, notifications
from app.services.timelimits import clocks
from app.timelimits import status
from app.workdays import as_date

PROCEDURE_NAMES = {"hearing": "听证", "tender": "招标", "auction": "拍卖", "inspection": "检验", "testing": "检测",
                   "quarantine": "检疫", "appraisal": "鉴定", "expert_review": "专家评审"}
EXTENSION_DAYS, JOINT_EXTENSION_DAYS = 10, 15  # Art. 42 ¶1 and ¶2


class ClockNotFound(NotFound):
    pass


def case_clocks(ctx: ServiceContext, principal: Principal, case_no: str) -> dict[str, Any]:
    """Every clock of a case with start, limit, deadline, elapsed, remaining, suspensions and extension."""
    with ctx.uow() as uow:
        s = uow.session
        case = _visible_case(s, principal, case_no)
        cal = ctx.calendar.get(s)
        now = ctx.clock.now()
        rows = s.scalars(select(CaseClock).where(CaseClock.case_id == case.id).order_by(CaseClock.id)).all()
        suspensions = s.scalars(select(ClockSuspension).where(ClockSuspension.case_id == case.id)
                                .order_by(ClockSuspension.id)).all()
        extensions = s.scalars(select(ClockExtension).where(ClockExtension.case_id == case.id)
                               .order_by(ClockExtension.id)).all()
        return {"case_no": case.case_no, "deemed_accepted_at": case.deemed_accepted_at,
                "may_act": _handles(principal, case.item),
                "clocks": [_clock_view(cal, c, now, suspensions, extensions) for c in rows]}


def _clock_view(cal: Any, c: CaseClock, now: datetime, suspensions: Any, extensions: Any) -> dict[str, Any]:
    at = c.stopped_at or now
    st = status(cal, clocks.limit_of(c), at)
    open_suspension = next((x for x in suspensions if x.clock_id == c.id and x.ended_at is None), None)
    elapsed = st.elapsed
    if open_suspension is not None and c.unit == "wd":  # the stopped days do not count
        elapsed -= cal.workdays_between(open_suspension.started_at, at)
    return {
        "id": c.id, "kind": c.kind, "name": c.name, "task_id": c.task_id, "department": c.department,
        "started_at": c.started_at, "limit": c.limit_value, "unit": c.unit, "statutory_limit": c.statutory_limit,
        "extended_by": c.extended_by, "suspended_days": c.suspended_days, "deadline": c.deadline,
        "statutory_deadline": clocks.statutory_deadline(cal, c),
        "provisional": c.provisional, "state": c.state, "level": st.level if c.state == "running" else c.level, "stopped_at": c.stopped_at,
        "on_time": c.on_time, "elapsed": max(elapsed, 0), "remaining": None if c.state == "suspended" else st.remaining,
        "suspensions": [_suspension_view(x) for x in suspensions if x.clock_id == c.id],
        "extensions": [_extension_view(x) for x in extensions if x.clock_id == c.id],
    }


def _suspension_view(x: ClockSuspension) -> dict[str, Any]:
    return {"id": x.id, "procedure": x.procedure, "procedure_name": PROCEDURE_NAMES.get(x.procedure, x.procedure),
            "reason": x.reason, "expected_days": x.expected_days, "started_at": x.started_at,
            "ended_at": x.ended_at, "days": x.days, "notice_id": x.notice_id}


def _extension_view(x: ClockExtension) -> dict[str, Any]:
    return {"id": x.id, "days": x.days, "reason": x.reason, "state": x.state, "department": x.department,
            "requested_at": x.requested_at, "decided_at": x.decided_at, "comment": x.comment,
            "notice_id": x.notice_id}


# -- special procedures ------------------------------------------------------------------------------

def start_suspension(ctx: ServiceContext, principal: Principal, case_no: str, procedure: str,
                     expected_days: int, reason: str) -> dict[str, Any]:
    """Stop the decision clock for a special procedure and issue the written notice to the applicant.

    :raises InvalidInput: unknown procedure or duration. :raises Conflict: no running decision clock.
    """
    errors = []
    if procedure not in PROCEDURES:
        errors.append({"field": "procedure", "message": f"请选择特别程序 / one of {', '.join(PROCEDURES)}"})
    if not isinstance(expected_days, int) or isinstance(expected_days, bool) or not 1 <= expected_days <= 365:
        errors.append({"field": "expected_days", "message": "请填写 1–365 个工作日 / working days, 1–365"})
    if errors:
        raise InvalidInput("特别程序信息不完整 / invalid special procedure", errors)
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        case = _case_to_change(ctx, s, principal, case_no)
        clock = _decision_clock(s, case, ("running",))
        if clock is None:
            raise Conflict("没有正在计时的审查期限 / no running decision clock")
        cal = ctx.calendar.get(s)
        # The steps inside the decision stop with it: an approver waiting for a test result is not late.
        for step in _step_clocks(s, case, "running"):
            step.state, step.next_check_at = "suspended", None
        clock.state, clock.next_check_at = "suspended", None
        suspension = ClockSuspension(clock_id=clock.id, case_id=case.id, procedure=procedure, reason=reason[:2000],
                                     expected_days=expected_days, started_at=now, started_by=principal.id)
        s.add(suspension)
        notice = issue_notice(s, cal, case, "suspension", {
            "procedure": procedure, "procedure_name": PROCEDURE_NAMES[procedure], "expected_days": expected_days,
            "reason": reason[:2000], "started_on": as_date(now).isoformat(),
            "expected_end": cal.add_workdays(now, expected_days).isoformat()}, now, principal.id)
        suspension.notice_id = notice.id
        log_event(s, case.id, now, "suspended", principal.id, message=PROCEDURE_NAMES[procedure],
                  data_after={"procedure": procedure, "expected_days": expected_days})
        milestones.notify(ctx, s, case, "special_procedure_start", milestones.notice_fields(notice.content),
                          occurrence=notice.id)
        clocks.sync_task_due(s, case.id)
        uow.commit()
        return _suspension_view(suspension)


def end_suspension(ctx: ServiceContext, principal: Principal, case_no: str, suspension_id: int) -> dict[str, Any]:
    """The procedure ended: the clock resumes, its deadline moves on by the working days it took."""
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        case = _case_to_change(ctx, s, principal, case_no)
        suspension = s.get(ClockSuspension, suspension_id)
        if suspension is None or suspension.case_id != case.id:
            raise ClockNotFound(f"没有这项特别程序 / no suspension {suspension_id}")
        if suspension.ended_at is not None:
            raise Conflict("该特别程序已结束 / already ended")
        clock = s.get(CaseClock, suspension.clock_id)
        assert clock is not None
        cal = ctx.calendar.get(s)
        suspension.ended_at, suspension.ended_by = now, principal.id
        suspension.days = max(cal.workdays_between(suspension.started_at, now), 0)
        for resumed in [clock, *_step_clocks(s, case, "suspended")]:
            resumed.suspended_days += suspension.days
            resumed.state = "running"
            clocks.refresh(cal, resumed, now)
        milestones.notify(ctx, s, case, "special_procedure_end", {
            "procedure_name": PROCEDURE_NAMES.get(suspension.procedure, suspension.procedure),
            "deadline": as_date(clock.deadline).isoformat() if clock.deadline else None}, occurrence=suspension.id)
        log_event(s, case.id, now, "resumed", principal.id, message=PROCEDURE_NAMES.get(suspension.procedure),
                  data_after={"days": suspension.days, "deadline": clock.deadline.isoformat() if clock.deadline else None})
        clocks.sync_task_due(s, case.id)
        uow.commit()
        return _suspension_view(suspension)


# -- extension ---------------------------------------------------------------------------------------

EXTENSION_MESSAGE, EXTENSION_ACTION = "extension_requested", "extension"  # BPMN message name, clockAction


def request_extension(ctx: ServiceContext, principal: Principal, case_no: str, reason: str) -> dict[str, Any]:
    """Ask the department head to extend the decision limit (+10 working days, +15 for joint handling).

    The request goes into the case's workflow as the message `extension_requested`: its event subprocess
    opens the head's task `approve_extension`, and completing that task decides (`after_clock_action`). A
    process version without that event subprocess leaves the decision to `decide_extension`.
    :raises InvalidInput: no reason. :raises Conflict: no decision clock, or one was already asked for.
    :raises ProcessError: the workflow failed on the message (the case is unchanged).
    """
    if not reason or not reason.strip():
        raise InvalidInput("请说明延期理由 / a reason is required", [{"field": "reason", "message": "请说明延期理由 / required"}])
    case_id: int | None = None
    try:
        with ctx.uow(write=True) as uow:
            s, now = uow.session, ctx.clock.now()
            case = _case_to_change(ctx, s, principal, case_no)
            case_id = case.id
            clock = _decision_clock(s, case, ("running", "suspended"))
            if clock is None:
                raise Conflict("没有正在计时的审查期限 / no running decision clock")
            if s.scalar(select(func.count()).select_from(ClockExtension).where(
                    ClockExtension.clock_id == clock.id, ClockExtension.state != "rejected")):
                raise Conflict("审查期限只能延长一次 / the limit may be extended only once")
            item = case.item
            days = JOINT_EXTENSION_DAYS if item.joint else EXTENSION_DAYS
            department = clocks._department(item)
            extension = ClockExtension(clock_id=clock.id, case_id=case.id, days=days, reason=reason.strip()[:2000],
                                       department=department, requested_by=principal.id, requested_at=now)
            s.add(extension)
            s.flush()
            log_event(s, case.id, now, "extension_requested", principal.id, message=extension.reason,
                      data_after={"days": days})
            _send_to_workflow(ctx, s, case, extension, principal.id, now)
            notifications.notify_groups(s, now, [f"{department}.head"], "extension",
                                        f"延期申请待审批：{case.case_no}",
                                        f"申请延长审查期限 {days} 个工作日：{extension.reason}", case_id=case.id,
                                        link=f"/staff/cases/{case.case_no}")
            uow.commit()
            return _extension_view(extension)
    except EngineFailure as failure:
        assert case_id is not None
        incident = record_incident(ctx, case_id, failure, principal.id)
        raise ProcessError(f"流程执行出错，办件未改变 / the step failed and the case is unchanged: "
                           f"{failure.message}", failure.element_id, incident) from failure


def _send_to_workflow(ctx: ServiceContext, s: Session, case: Case, extension: ClockExtension,
                      actor_id: int | None, now: datetime) -> bool:
    """Open the head's approval task in the case's workflow; False if its process version has none."""
    if case.engine_state is None or case.process_definition_id is None:
        return False
    bundle = bundle_for(ctx, s, case.process_definition_id)
    workflow = ctx.engine.loads(case.engine_state, bundle)
    open_before = {v.id for v in ctx.engine.user_tasks(workflow)}
    result = ctx.engine.send_message(workflow, EXTENSION_MESSAGE, {
        "extension_id": extension.id, "extension_group": f"{extension.department}.head",
        "extension_days": extension.days, "extension_reason": extension.reason}, ctx.clock.now)
    if result is None:
        return False
    save_step(ctx, s, case, workflow, bundle, result, now, actor_id, open_before=open_before)
    return True


def on_step(ctx: ServiceContext, s: Session, step: SavedStep) -> None:
    """Step listener: a completed `clockAction` task (the head's extension approval) decides its request."""
    if any(p.manual and p.properties.get("clockAction") for p in step.result.passed):
        after_clock_action(ctx, s, step.case, step.result, step.completed_data, step.now, step.actor_id)


def after_clock_action(ctx: ServiceContext, s: Session, case: Case, result: StepResult,
                       completed_data: Callable[[str], list[dict[str, Any]]], now: datetime, actor_id: int | None) -> None:
    """A completed `clockAction=extension` task decides its extension.

    The task's candidate group (the department's head) was checked when it was completed.
    """
    for key in dict.fromkeys(p.key for p in result.passed
                             if p.manual and p.properties.get("clockAction") == EXTENSION_ACTION):
        for data in completed_data(key):  # an earlier, rejected request's task is completed too
            ext_id = data.get("extension_id")
            extension = s.get(ClockExtension, ext_id) if isinstance(ext_id, int) else None
            if extension is None or extension.case_id != case.id or extension.state != "requested":
                continue
            comment = data.get("extension_comment") if isinstance(data.get("extension_comment"), str) else ""
            _decide(ctx, s, case, extension, data.get("extension_decision") == "approve", comment, actor_id, now)


def decide_extension(ctx: ServiceContext, principal: Principal, case_no: str, extension_id: int, approve: bool,
                     comment: str = "") -> dict[str, Any]:
    """The head of the item's department approves or rejects a request whose process version has no
    approval task (older versions); an approval extends the clock and tells the applicant in writing.

    :raises Forbidden: not that department's head. :raises Conflict: decided already, or the request
        waits in the head's task `approve_extension` (complete that task instead).
    """
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        case = lock_case(ctx, s, case_id=_case_id(s, case_no))
        if case is None:
            raise CaseNotFound(case_no)
        extension = s.get(ClockExtension, extension_id)
        if extension is None or extension.case_id != case.id:
            raise ClockNotFound(f"没有这项延期申请 / no extension {extension_id}")
        if not (principal.has("head") and principal.department == extension.department):
            raise Forbidden("只有本部门负责人可以批准延期 / only the department head may decide")
        if extension.state != "requested":
            raise Conflict("该延期申请已处理 / already decided")
        if s.scalar(select(func.count()).select_from(HumanTask).where(
                HumanTask.case_id == case.id, HumanTask.task_key == "approve_extension")):
            raise Conflict("请在待办任务“审批延期申请”中审批 / decide in the task approve_extension")
        _decide(ctx, s, case, extension, approve, comment, principal.id, now)
        uow.commit()
        return _extension_view(extension)


def _decide(ctx: ServiceContext, s: Session, case: Case, extension: ClockExtension, approve: bool, comment: str,
            actor_id: int | None, now: datetime) -> None:
    extension.state = "approved" if approve else "rejected"
    extension.decided_by, extension.decided_at, extension.comment = actor_id, now, comment[:2000] or None
    clock = s.get(CaseClock, extension.clock_id)
    assert clock is not None
    if approve and clock.state != "stopped":
        cal = ctx.calendar.get(s)
        clock.extended_by += extension.days
        clocks.refresh(cal, clock, now)
        notice = issue_notice(s, cal, case, "extension", {
            "days": extension.days, "reason": extension.reason,
            "new_deadline": as_date(clock.deadline).isoformat() if clock.deadline else None}, now, actor_id)
        extension.notice_id = notice.id
        # The same key as the step listener's for this notice: a decision taken in a step is told once.
        milestones.notify(ctx, s, case, "extension", milestones.notice_fields(notice.content), occurrence=notice.id)
        clocks.sync_task_due(s, case.id)
    log_event(s, case.id, now, "extension_" + extension.state, actor_id, message=comment[:2000] or None,
              data_after={"days": extension.days})


# -- alarms ------------------------------------------------------------------------------------------

def open_alarms(ctx: ServiceContext, principal: Principal, level: str | None = None, page: int = 1,
                per_page: int = 50) -> dict[str, Any]:
    """Alarms not yet cleared, newest first: supervisors see all, a department its own."""
    if not principal.is_staff:
        raise Forbidden("仅限工作人员 / staff only")
    if level not in (None, "yellow", "red"):
        raise InvalidInput("level", [{"field": "level", "message": "yellow or red"}])
    with ctx.uow() as uow:
        s = uow.session
        query = select(Alarm, Case.case_no).join(Case, Case.id == Alarm.case_id).where(Alarm.cleared_at.is_(None))
        if level:
            query = query.where(Alarm.level == level)
        if not principal.sees_everything:
            query = query.where(Alarm.department == (principal.department or ""))
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(Alarm.fired_at.desc(), Alarm.id.desc())
                         .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
        return {"total": total, "page": page, "per_page": per_page, "items": [
            {"id": a.id, "kind": a.kind, "level": a.level, "case_no": no, "department": a.department,
             "message": a.message, "due_at": a.due_at, "fired_at": a.fired_at} for a, no in rows]}


# -- shared ------------------------------------------------------------------------------------------

def _case_id(s: Session, case_no: str) -> int:
    case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
    if case_id is None:
        raise CaseNotFound(f"没有这个办件 / no case {case_no}")
    return case_id


def _visible_case(s: Session, principal: Principal, case_no: str) -> Case:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or not can_see_case(s, principal, case):
        raise CaseNotFound(f"没有这个办件 / no case {case_no}")
    return case


def _case_to_change(ctx: ServiceContext, s: Session, principal: Principal, case_no: str) -> Case:
    """The case, locked; only approvers and heads of a department that handles the item may act."""
    case = lock_case(ctx, s, case_id=_case_id(s, case_no))
    if case is None or not can_see_case(s, principal, case):
        raise CaseNotFound(f"没有这个办件 / no case {case_no}")
    if not _handles(principal, case.item):
        raise Forbidden("只有承办部门的审批人员可以操作 / only the handling departments' approvers may do this")
    return case


def _handles(principal: Principal, item: Item) -> bool:
    """An approver or head of a department that handles the item (who may stop or extend its clock)."""
    return principal.has("approver", "head") and principal.department in item.handling_departments


def _step_clocks(s: Session, case: Case, state: str) -> list[CaseClock]:
    return list(s.scalars(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.kind == "step",
                                                  CaseClock.state == state)))


def _decision_clock(s: Session, case: Case, states: tuple[str, ...]) -> CaseClock | None:
    return s.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.kind == "decision",
                                            CaseClock.state.in_(states)).order_by(CaseClock.id.desc()).limit(1))
