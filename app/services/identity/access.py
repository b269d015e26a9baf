"""Who may see a case: the one access rule that pages, files, notices and clocks share."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.models import Case, CaseEvent, HumanTask, TaskCandidate
from app.services.identity.principal import Principal


def can_see_case(s: Session, principal: Principal, case: Case) -> bool:
    """Applicants see their own cases; staff the cases their department or groups touch."""
    if principal.sees_everything or case.applicant_id == principal.id:
        return True
    if not principal.is_staff:
        return False
    if principal.department and principal.department in case.item.handling_departments:
        return True
    candidate = exists().where(
        TaskCandidate.task_id == HumanTask.id,
        or_((TaskCandidate.kind == "group") & TaskCandidate.name.in_(principal.groups or {""}),
            (TaskCandidate.kind == "user") & (TaskCandidate.name == principal.username)))
    involved = s.scalar(select(
        exists().where(HumanTask.case_id == case.id, or_(HumanTask.assignee_id == principal.id, candidate))
        | exists().where(CaseEvent.case_id == case.id, CaseEvent.actor_id == principal.id)))
    return bool(involved)
