"""Public tracking (DB4201/T 571 §5.1.1.3) by case number and the applicant's phone or ID suffix, with failed
lookups limited per client."""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import CaseNotFound
from app.models import (
    Case,
    CaseEvent,
    Department,
    HumanTask,
    User,
)
from app.services.context import ServiceContext
from app.services.identity import ratelimit
from app.services.identity.identity import normalize_id, normalize_mobile

RESULTS = {"issued": "granted", "decided": "granted", "closed": "completed", "withdrawn": "withdrawn"}


def track(ctx: ServiceContext, case_no: str, secret: str, client: str | None = None) -> dict[str, Any]:
    """The §5.1.1.3 fields of a case, for whoever knows its number and the applicant's mobile number or
    the last six characters of the applicant's ID number / credit code. Failed lookups are counted per
    `client` (its address): past the limit, no lookup is made.

    :raises CaseNotFound: any mismatch, with the same message whatever did not match.
    :raises TooManyAttempts: `client` failed too often lately.
    """
    if client is None:
        return _track(ctx, case_no, secret)
    with ratelimit.attempt(ctx, (ratelimit.TRACK, client), counts=CaseNotFound):
        return _track(ctx, case_no, secret)


def _track(ctx: ServiceContext, case_no: str, secret: str) -> dict[str, Any]:
    not_found = CaseNotFound("未找到匹配的办件 / no matching case")
    case_no, secret = case_no.strip().upper(), secret.strip()
    if not case_no or len(secret) < 6 or len(case_no) > 32:
        raise not_found
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or not _secret_matches(case.applicant, secret):
            raise not_found
        tasks_ = list(s.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.created_at)))
        return {"case_no": case.case_no, "item_name": case.item.name, "accepted_at": case.accepted_at,
                "departments": _departments(s, case, tasks_),
                "handler": _handler(s, case, tasks_), "status": case.status, "result": _result(case)}


def _secret_matches(applicant: User, secret: str) -> bool:
    candidates = [normalize_mobile(applicant.phone)] if applicant.phone else []
    if applicant.id_number and len(applicant.id_number) >= 6:
        candidates.append(normalize_id(applicant.id_number)[-6:])
    given = normalize_id(secret) if len(normalize_id(secret)) == 6 else normalize_mobile(secret)
    matched = False
    for candidate in candidates:  # no early exit: the time taken says nothing about which matched
        matched |= hmac.compare_digest(candidate.encode(), given.encode())
    return matched


def _departments(s: Session, case: Case, open_tasks: list[HumanTask]) -> list[str]:
    codes = [t.department for t in open_tasks if t.department]
    if not codes:
        return [case.item.department.name]
    names = dict(s.execute(select(Department.code, Department.name).where(Department.code.in_(codes))).all())
    return list(dict.fromkeys(names.get(c, c) for c in codes))


def _handler(s: Session, case: Case, open_tasks: list[HumanTask]) -> dict[str, str] | None:
    """The staff member holding the case now, or else the last one who acted on it."""
    assignee_ids = [t.assignee_id for t in open_tasks if t.assignee_id]
    user = None
    if assignee_ids:
        user = s.scalar(select(User).where(User.id.in_(assignee_ids), User.role != "applicant").limit(1))
    if user is None:
        user = s.scalar(select(User).join(CaseEvent, CaseEvent.actor_id == User.id)
                        .where(CaseEvent.case_id == case.id, User.role != "applicant")
                        .order_by(CaseEvent.id.desc()).limit(1))
    return {"name": user.full_name or user.username, "staff_no": user.staff_no or ""} if user else None


def _result(case: Case) -> str | None:
    if case.status == "refused":
        return "refused" if case.decided_at is not None else "not_accepted"
    return RESULTS.get(case.status)
