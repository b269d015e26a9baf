"""差评整改 as people read it: the centre's list (who rated, what, the state and the lights of its limits), one
rectification, and the rater's view of the progress on their case page.

Who sees what: supervisors and administrators every rectification; the centre's staff (service_center) every
one, as they call back, classify and feed back; a department's staff those of ratings of their department;
the rater only their own, through their case page, without the centre's notes on the classification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound
from app.models import Case, CaseClock, Department, HumanTask, Rating, User
from app.models.rectification import Rectification
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, window

from . import rules
from .levels import grade, level_name

CENTRE = "service_center"
STAGES = {"callback": ("回访", "Callback"), "classification": ("分类研判", "Classification"),
          "review": ("复核", "Review"), "rectification": ("整改", "Rectification"), "appeal": ("申诉复核", "Appeal review"),
          "feedback": ("反馈", "Feedback")}


class RectificationNotFound(NotFound):
    pass


@dataclass(frozen=True)
class RectificationFilter:
    state: str | None = None  # open / closed
    department: str | None = None
    classification: str | None = None


def list_rectifications(ctx: ServiceContext, principal: Principal, flt: RectificationFilter, page: int = 1,
                        per_page: int = 20) -> Page[dict[str, Any]]:
    """Newest first. :raises Forbidden: not staff."""
    _check_staff(principal)
    page, per_page = window(page, per_page)
    query = _base().where(*_conditions(principal, flt))
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(Rectification.opened_at.desc(), Rectification.id.desc())
                         .offset(offset(page, per_page)).limit(per_page)).all()
        return Page([_view(s, *row) for row in rows], page, per_page, total)


def get_rectification(ctx: ServiceContext, principal: Principal, rectification_id: int) -> dict[str, Any]:
    """One rectification with its clocks and open tasks.

    :raises Forbidden: not staff. :raises RectificationNotFound: unknown, or not this user's to see.
    """
    _check_staff(principal)
    with ctx.uow() as uow:
        s = uow.session
        row = s.execute(_base().where(Rectification.id == rectification_id, *_conditions(principal, None))).first()
        if row is None:
            raise RectificationNotFound(f"没有这个差评整改 / no rectification {rectification_id}")
        return _view(s, *row, detail=True)


def for_rated_case(ctx: ServiceContext, principal: Principal, case_no: str) -> list[dict[str, Any]]:
    """The rectifications of the ratings of a case, as its applicant (the rater) follows them: the stage,
    whether they were called back, the outcome and the feedback; [] for anyone else."""
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or case.applicant_id != principal.id:
            return []
        rows = s.execute(_base().where(Rating.case_id == case.id).order_by(Rectification.id)).all()
        return [_rater_view(s, *row) for row in rows]


def _base() -> Any:
    owner = select(Case.case_no, Case.stage, Case.id).subquery()
    return (select(Rectification, Rating, Department.code, Department.name, owner.c.case_no, owner.c.stage)
            .join(Rating, Rating.id == Rectification.rating_id)
            .outerjoin(Department, Department.id == Rectification.department_id)
            .outerjoin(owner, owner.c.id == Rectification.case_id))


def _conditions(principal: Principal, flt: RectificationFilter | None) -> list[Any]:
    out: list[Any] = []
    if not (principal.sees_everything or principal.department == CENTRE):
        out.append(Department.code == (principal.department or ""))
    if flt is not None:
        if flt.state:
            out.append(Rectification.state == flt.state)
        if flt.department:
            out.append(Department.code == flt.department)
        if flt.classification == "pending":
            out.append(Rectification.classification.is_(None))
        elif flt.classification:
            out.append(Rectification.classification == flt.classification)
    return out


def _check_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise Forbidden("仅工作人员可查看差评整改 / staff only")


def _view(s: Session, row: Rectification, rating: Rating, dept_code: str | None, dept_name: str | None,
          case_no: str | None, stage: str | None, detail: bool = False) -> dict[str, Any]:
    rated_no = s.scalar(select(Case.case_no).where(Case.id == rating.case_id)) if rating.case_id else None
    rater = s.scalar(select(User.full_name).where(User.id == rating.rated_by_id)) if rating.rated_by_id else None
    names = {r["code"]: r for r in rules.current(s).reasons}
    clocks = list(s.scalars(select(CaseClock).where(CaseClock.case_id == row.case_id).order_by(CaseClock.id))) \
        if row.case_id else []
    view = {
        "id": row.id, "state": row.state, "case_no": case_no, "stage": stage, "stage_name": _stage(stage),
        "department": {"code": dept_code, "name": dept_name} if dept_code else None,
        "rating": {"id": rating.id, "case_no": rated_no, "channel": rating.channel, "kind": rating.kind,
                   "level": rating.level, "level_name": level_name(rating.level, "zh"), "grade": grade(rating.level),
                   "reasons": [{"code": r, "name": (names.get(r) or {}).get("zh", r)} for r in rating.reasons or []],
                   "comment": rating.comment, "rated_at": _iso(rating.rated_at), "rater": rater},
        "classification": row.classification, "classification_reason": row.classification_reason,
        "called_back_at": _iso(row.called_back_at), "callback_outcome": row.callback_outcome,
        "rectified_at": _iso(row.rectified_at), "rectification": row.rectification,
        "feedback": row.feedback, "fed_back_at": _iso(row.fed_back_at),
        "opened_at": _iso(row.opened_at), "closed_at": _iso(row.closed_at),
        "level": _worst(clocks), "clocks": [_clock(c) for c in clocks],
    }
    if detail:
        tasks = s.scalars(select(HumanTask).where(HumanTask.case_id == row.case_id).order_by(HumanTask.created_at)) \
            if row.case_id else []
        view["tasks"] = [{"id": t.id, "task_key": t.task_key, "name": t.name, "department": t.department,
                          "due_at": _iso(t.due_at)} for t in tasks]
    return view


def _rater_view(s: Session, row: Rectification, rating: Rating, dept_code: str | None, dept_name: str | None,
                case_no: str | None, stage: str | None) -> dict[str, Any]:
    """What the rater is told: no reasons of the centre's, only the outcome."""
    return {"id": row.id, "state": row.state, "stage": stage, "stage_name": _stage(stage),
            "rating_kind": rating.kind, "level_name": level_name(rating.level, "zh"),
            "called_back": row.called_back_at is not None, "called_back_at": row.called_back_at,
            "outcome": _outcome(row), "feedback": row.feedback, "fed_back_at": row.fed_back_at,
            "opened_at": row.opened_at, "closed_at": row.closed_at, "department_name": dept_name}


def _outcome(row: Rectification) -> str | None:
    """closed: rectified / not_rectified (mistaken, malicious); open: None."""
    if row.state != "closed":
        return None
    return "rectified" if row.rectified_at is not None else "not_rectified"


def _stage(stage: str | None) -> str:
    return STAGES.get(stage or "", ("", ""))[0]


def _clock(c: CaseClock) -> dict[str, Any]:
    return {"id": c.id, "kind": c.kind, "name": c.name, "department": c.department, "state": c.state,
            "level": c.level, "started_at": _iso(c.started_at), "deadline": _iso(c.deadline),
            "stopped_at": _iso(c.stopped_at), "on_time": c.on_time}


def _worst(clocks: list[CaseClock]) -> str | None:
    """The light the list shows: the worst level of the running limits (None when none runs)."""
    order = {"green": 0, "yellow": 1, "red": 2}
    running = [c.level for c in clocks if c.state == "running"]
    return max(running, key=lambda lv: order.get(lv, 0)) if running else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
