"""My cases: the applicant's list and one case with its files, history and correction step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Case,
    CaseEvent,
    CaseFile,
    Comment,
    Department,
    HumanTask,
    Notice,
    User,
    case_terms,
)
from app.services.casework import cases
from app.services.casework.reused import reused_on_case
from app.services.casework.views import case_summary
from app.services.context import ServiceContext
from app.services.documents.files import view
from app.services.identity.principal import Principal
from app.services.portal.common import _materials, _own_case
from app.services.portal.correction import _deficiencies, _offered_correction
from app.services.timelimits import clocks

WITHDRAWABLE = cases.WITHDRAWABLE


def my_cases(ctx: ServiceContext, principal: Principal) -> list[dict[str, Any]]:
    """The applicant's cases, newest first: status, current step, deadline, notices received."""
    with ctx.uow() as uow:
        s = uow.session
        due = (select(HumanTask.case_id, func.min(HumanTask.due_at).label("due"))
               .group_by(HumanTask.case_id).subquery())
        notices = (select(Notice.case_id, func.count().label("n")).group_by(Notice.case_id).subquery())
        rows = s.execute(select(Case, due.c.due, func.coalesce(notices.c.n, 0))
                         .outerjoin(due, due.c.case_id == Case.id).outerjoin(notices, notices.c.case_id == Case.id)
                         # a rectification of their bad rating (channel internal) shows on the rated case's page
                         .where(Case.applicant_id == principal.id, Case.channel != "internal")
                         .order_by(Case.received_at.desc(), Case.id.desc())).all()
        return [{"case_no": c.case_no, "item_code": c.item.code, "item_name": c.item.name, "status": c.status,
                 "stage": c.stage, "received_at": c.received_at, "deadline": due_at, "notices": n}
                for c, due_at, n in rows]


def my_case(ctx: ServiceContext, principal: Principal, case_no: str) -> dict[str, Any]:
    """One of the applicant's own cases with what the case page shows.

    :raises CaseNotFound: unknown or someone else's.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _own_case(s, principal, case_no)
        open_tasks = list(s.scalars(select(HumanTask).where(HumanTask.case_id == case.id)
                                    .order_by(HumanTask.created_at, HumanTask.id)))
        mine = _offered_correction(s, case, principal) if case.status == "correction" else None
        files = s.scalars(select(CaseFile).where(CaseFile.case_id == case.id)
                          .order_by(CaseFile.round, CaseFile.material, CaseFile.id))
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                   CaseEvent.action.in_(("created", "status", "withdrawn",
                                                                         "resubmitted"))).order_by(CaseEvent.id))
        view_ = case_summary(case)
        reused = reused_on_case(s, case.id)
        view_.update(
            deadline=min((t.due_at for t in open_tasks if t.due_at), default=None),
            decision_due=None, decision_due_provisional=False,
            files=[view(f) for f in files], reused=reused,
            # The materials of the revision the case is held to, as the correction step checks them.
            materials=[{**m, "reused": reused.get(m["name"])}
                       for m in _materials(case_terms(case))],  # type: ignore[arg-type]  # same attributes
            history=[{"at": e.at, "action": e.action, "status": (e.data_after or {}).get("status"),
                      "message": e.message if e.action != "status" else None} for e in events],
            correction=None, withdrawable=case.accepted_at is None and case.status in WITHDRAWABLE,
            comments=_public_comments(s, case.id))
        decision = clocks.decision_deadline(s, case.id)
        if decision is not None and case.decided_at is None:
            view_.update(decision_due=decision[0], decision_due_provisional=decision[1])
        if mine is not None:
            view_["correction"] = {"task_id": mine.id, "form_key": mine.form_key,
                                   "deficiencies": _deficiencies(s, case)}
        return view_


def _public_comments(s: Session, case_id: int) -> list[dict[str, Any]]:
    """The staff's public remarks on the case, oldest first, with the author's role and department;
    internal remarks stay with the staff."""
    rows = s.execute(select(Comment.body, Comment.created_at, User.role, Department.name)
                     .join(User, User.id == Comment.author_id)
                     .outerjoin(Department, Department.id == User.department_id)
                     .where(Comment.case_id == case_id, Comment.public.is_(True)).order_by(Comment.id))
    return [{"body": body, "at": at, "author_role": role, "author_department": department}
            for body, at, role, department in rows]
