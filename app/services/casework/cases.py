"""Cases (办件): starting one for an item, reading it, and recording engine incidents."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.engine.runtime import EngineFailure, StepResult
from app.errors import CaseNotFound, Conflict, Forbidden, InvalidInput, ItemNotFound, ProcessError
from app.models import Case, CaseCounter, CaseEvent, CaseFile, HumanTask, Incident, Item, User, case_terms
from app.services.casework.items import published_revision
from app.services.casework.processes import bundle_for, latest_definition
from app.services.casework.reused import reused_on_case, with_sources
from app.services.casework.steps import add_event, lock_case, mark_status, save_step
from app.services.casework.views import case_summary, event_view, task_view
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal

Records = Callable[[Session, Case], None]
UNREADABLE = (ValueError, KeyError, TypeError, AttributeError)  # what a damaged stored state raises on reading
log = logging.getLogger(__name__)


def create_case(ctx: ServiceContext, principal: Principal, item_code: str, data: dict[str, Any],
                applicant: str | None = None, records: Records | None = None) -> dict[str, Any]:
    """Submit an application for an item and run its process up to the first wait.

    An applicant applies for themself; a window clerk may name the `applicant` (window intake).
    `records(session, case)` adds what belongs to the application (its files, say) in the same
    transaction, before the first step is saved, so the receipt lists them and a failure keeps nothing.
    :raises ItemNotFound, Forbidden, InvalidForm, ProcessError:
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = active_item(s, item_code)
        owner = applicant_for(s, principal, applicant)
        form_data = ctx.forms.get(item.form_key).validate(data, {}) if item.form_key else {}
        definition = latest_definition(s, item.process_key)
        bundle = bundle_for(ctx, s, definition.id)
        now = ctx.clock.now()
        case_no = next_case_no(ctx, s, item.case_prefix, now)
        initial = {
            **form_data, "case_no": case_no, "item_code": item.code, "item_name": item.name,
            "applicant": owner.username, "applicant_name": owner.full_name, "received_at": now.isoformat(),
            # Applications taken at a window: that window's clerks may also act for the applicant later
            # (a correction brought to the counter); online applications leave it empty.
            "window_group": _window_group(principal) if owner.id != principal.id else "",
            "departments": list(item.departments),
            "material_names": [m["name"] for m in item.materials if isinstance(m, dict) and m.get("name")],
        }
        try:
            workflow, result = ctx.engine.start(bundle, initial, ctx.clock.now)
        except EngineFailure as failure:
            raise ProcessError(f"流程启动失败 / the process failed to start: {failure.message}",
                               failure.element_id) from failure
        # The case is held to the revision published now, whatever is published later.
        revision = published_revision(s, item.id)
        case = Case(case_no=case_no, item_id=item.id, process_definition_id=definition.id, application=form_data,
                    item_revision_id=revision.id if revision is not None else None,
                    applicant_id=owner.id, status="submitted", received_at=now, created_at=now, updated_at=now,
                    channel="window" if owner.id != principal.id else "online")
        s.add(case)
        s.flush()
        add_event(s, case, now, "created", principal.id,
                  message=f"{item.name} ({definition.key} v{definition.version})", data_after=form_data)
        if records is not None:
            records(s, case)
        save_step(ctx, s, case, workflow, bundle, result, now, principal.id, new=True)
        s.flush()
        view = _case_view(ctx, s, case, principal, detail=False)
        uow.commit()
        return view


def get_case(ctx: ServiceContext, principal: Principal, case_no: str) -> dict[str, Any]:
    """The case with its open tasks, history and incidents, if `principal` may see it.

    :raises CaseNotFound: unknown, or not visible to this user (no hint that it exists).
    """
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or not can_see_case(s, principal, case):
            raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
        return _case_view(ctx, s, case, principal, detail=True)


WITHDRAWABLE = ("submitted", "correction")


def withdraw_case(ctx: ServiceContext, principal: Principal, case_no: str, reason: str = "") -> dict[str, Any]:
    """The applicant withdraws an application that is not yet accepted: the process is cancelled where
    it stands, open tasks and timers disappear, the case ends as withdrawn.

    :raises CaseNotFound: unknown, or not the applicant's own case.
    :raises Conflict: already accepted, or finished.
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        case = lock_case(ctx, s, case_id) if case_id is not None else None
        if case is None or (case.applicant_id != principal.id and not principal.is_admin):
            raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
        if case.accepted_at is not None or case.status not in WITHDRAWABLE:
            raise Conflict("已受理或已办结的办件不能撤回 / only cases not yet accepted can be withdrawn")
        assert case.process_definition_id is not None and case.engine_state is not None
        bundle = bundle_for(ctx, s, case.process_definition_id)
        workflow = ctx.engine.loads(case.engine_state, bundle)
        open_before = {v.id for v in ctx.engine.user_tasks(workflow)}
        ctx.engine.cancel(workflow)
        now = ctx.clock.now()
        add_event(s, case, now, "withdrawn", principal.id, message=reason[:2000] or None)
        mark_status(s, case, "withdrawn", now, principal.id)
        save_step(ctx, s, case, workflow, bundle, StepResult(), now, principal.id, open_before=open_before)
        view = case_summary(case)
        uow.commit()
        return view


def record_incident(ctx: ServiceContext, case_id: int, failure: EngineFailure, actor_id: int | None) -> int:
    """Store an incident in its own transaction (the failed step's transaction was rolled back)."""
    with ctx.uow(write=True) as uow:
        incident = Incident(case_id=case_id, at=ctx.clock.now(), element_id=failure.element_id,
                            message=failure.message[:4000], actor_id=actor_id)
        uow.session.add(incident)
        uow.session.flush()
        incident_id = incident.id
        uow.commit()
        return incident_id


def _case_view(ctx: ServiceContext, s: Session, case: Case, principal: Principal, detail: bool
               ) -> dict[str, Any]:
    view = case_summary(case)
    tasks = s.execute(select(HumanTask, User.username).outerjoin(User, User.id == HumanTask.assignee_id)
                      .where(HumanTask.case_id == case.id).order_by(HumanTask.created_at, HumanTask.id)).all()
    view["tasks"] = [task_view(t, assignee, case) for t, assignee in tasks]
    if detail:
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
        view["history"] = [event_view(e, staff=principal.is_staff) for e in events]
        incidents = s.scalars(select(Incident).where(Incident.case_id == case.id).order_by(Incident.id))
        view["incidents"] = [{"id": i.id, "at": i.at, "element_id": i.element_id, "message": i.message,
                              "resolved_at": i.resolved_at} for i in incidents]
        view["materials"] = _materials(s, case)
        if principal.is_staff:  # the process data: one workflow load, for one case page
            view["data"] = _process_data(ctx, s, case)
    return view


def _materials(s: Session, case: Case) -> list[dict[str, Any]]:
    """The case's materials with where each came from: `source` "upload", "licence" (the licence library
    stands for it, 减材料) or None (not provided)."""
    named = [{"name": str(m["name"]), "required": bool(m.get("required")), "licence_type": m.get("licence_type")}
             for m in case_terms(case).materials if isinstance(m, dict) and m.get("name")]
    files = list(s.scalars(select(CaseFile.material).where(CaseFile.case_id == case.id,
                                                            CaseFile.superseded_at.is_(None))))
    return with_sources(named, files, reused_on_case(s, case.id))


def _process_data(ctx: ServiceContext, s: Session, case: Case) -> dict[str, Any]:
    return process_data(ctx, s, case, readable_workflow(ctx, s, case))


def readable_workflow(ctx: ServiceContext, s: Session, case: Case) -> Any:
    """The case's workflow to read from, or None when it has none or its stored state cannot be read (a
    damaged case still opens, with its incidents, instead of failing the page)."""
    state = s.scalar(select(Case.engine_state).where(Case.id == case.id))
    if case.process_definition_id is None or state is None:
        return None
    try:
        return ctx.engine.loads(state, bundle_for(ctx, s, case.process_definition_id))
    except UNREADABLE as exc:
        log.warning("case %s: its workflow state cannot be read: %s", case.case_no, exc)
        return None


def process_data(ctx: ServiceContext, s: Session, case: Case, workflow: Any) -> dict[str, Any]:
    """The process data a case shows; {} when there is none or it cannot be read."""
    if workflow is None:
        return {}
    try:
        return ctx.engine.data(workflow)
    except UNREADABLE as exc:
        log.warning("case %s: its process data cannot be read: %s", case.case_no, exc)
        return {}


def active_item(s: Session, item_code: str) -> Item:
    """:raises ItemNotFound: no active item has this code."""
    item = s.scalar(select(Item).where(Item.code == item_code, Item.active.is_(True)))
    if item is None:
        raise ItemNotFound(f"事项不存在 / unknown item '{item_code}'",
                           [{"field": "item_code", "message": "unknown item"}])
    return item


def applicant_for(s: Session, principal: Principal, applicant: str | None) -> User:
    """Whose application it is: `principal` themself, or the `applicant` a window clerk names.

    :raises Forbidden, InvalidInput:
    """
    if applicant and applicant != principal.username:
        if not principal.has("clerk", "admin"):
            raise Forbidden("只有窗口人员可以代为申请 / only window clerks may apply on behalf of someone")
        user = s.scalar(select(User).where(User.username == applicant))
        if user is None or user.role != "applicant":
            raise InvalidInput("unknown applicant", [{"field": "applicant", "message": "未知申请人 / unknown applicant"}])
        return user
    if "applicant" not in principal.roles:
        if principal.has("clerk", "admin"):
            raise InvalidInput("window intake needs the applicant",
                               [{"field": "applicant", "message": "代办时必须指定申请人 / name the applicant"}])
        raise Forbidden("无权提交申请 / not allowed to apply")
    user = s.get(User, principal.id)
    assert user is not None
    return user


def _window_group(clerk: Principal) -> str:
    return next((g for g in sorted(clerk.groups) if g.endswith(".clerk")), "")


def next_case_no(ctx: ServiceContext, s: Session, prefix: str, now: datetime) -> str:
    """受理编号: prefix + yyyymmdd (China time) + a six-digit daily sequence, e.g. SP20261123000042."""
    day = now.astimezone(CHINA_TZ).strftime("%Y%m%d")
    insert = pg_insert if ctx.db.is_postgres else sqlite_insert
    stmt = (insert(CaseCounter).values(prefix=prefix, day=day, last=1)
            .on_conflict_do_update(index_elements=["prefix", "day"], set_={"last": CaseCounter.last + 1})
            .returning(CaseCounter.last))
    seq = s.execute(stmt).scalar_one()
    return f"{prefix}{day}{seq:06d}"
