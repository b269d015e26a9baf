"""Rating a finished case (the applicant, signed in) or a window visit (anyone holding its QR token).

Rules (GB/T 39734 §7, as the centre sets them in `rules`):
- one rating per case or visit; a case's applicant may add one follow-up (追加评价), kept beside the first,
  within the same number of working days after the first; a visit's rater is anonymous, so a visit takes
  one rating only (nobody could tell that a second came from the same person);
- no rating before the service ended, none after the window closed;
- a bad rating (不满意, 非常不满意) names at least one reason from the centre's list and may add text;
  saving one calls the `bad_rating_listeners` in its transaction (the rectification process hooks in there).

The request row is locked first (FOR UPDATE on PostgreSQL; SQLite's write lock), and (request, seq) is
unique, so two ratings sent at the same moment never both count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import CaseNotFound, Conflict, InvalidForm
from app.models import Case, CaseEvent, Rating, RatingRequest, ServiceWindow, WindowVisit
from app.models.rectification import Rectification
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from . import requests, rules, windows
from .levels import DIMENSIONS, LEVELS, grade, is_bad

MAX_COMMENT = 500
# Called with (context, session, rating) when a bad rating is saved: the rectification process (整改, wired in
# app/services/wiring.py) registers here.
bad_rating_listeners: list[Callable[[ServiceContext, Session, Rating], None]] = []


@dataclass(frozen=True)
class Submission:
    level: Any
    dimensions: Mapping[str, Any]
    reasons: list[Any]
    comment: str = ""


def rate_case(ctx: ServiceContext, principal: Principal, case_no: str, sub: Submission) -> dict[str, Any]:
    """The applicant's rating of their finished case, or its one follow-up.

    :raises CaseNotFound: no such case of theirs. :raises Conflict: not finished yet, the window closed,
    already rated and followed up. :raises InvalidForm: a level, dimension or reason out of place.
    """
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or case.applicant_id != principal.id:
            raise CaseNotFound("没有这个办件 / no such case")
        request = _lock(ctx, s, select(RatingRequest).where(RatingRequest.case_id == case.id))
        if request is None:
            raise Conflict("办件办结后才能评价 / a case can be rated once it is finished")
        first = _first(s, request)
        deadline = request.expires_at if first is None else follow_up_by(ctx, s, first)
        _check_time(request, first, now, deadline, follow_up_allowed=True)
        clean = check(s, "online", sub)
        officer = s.scalar(select(CaseEvent.actor_id).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "completed", CaseEvent.actor_id.is_not(None),
            CaseEvent.actor_id != case.applicant_id).order_by(CaseEvent.id.desc()).limit(1))
        rating = _save(ctx, s, request, first, clean, now, principal.id, case_id=case.id, item_id=case.item_id,
                       department_id=case.item.department_id if case.item else None, officer_id=officer)
        result = view(rating, case_no)
        uow.commit()
        return result


def rate_visit(ctx: ServiceContext, token: str, sub: Submission) -> dict[str, Any]:
    """An anonymous rating of a window visit by its QR token.

    :raises VisitNotFound: a token not signed here. :raises Conflict: already rated, the window closed.
    :raises InvalidForm: as `rate_case`.
    """
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        visit = windows.visit_of_token(s, ctx.secret_key, token)
        request = _lock(ctx, s, select(RatingRequest).where(RatingRequest.visit_id == visit.id))
        if request is None:  # written with the visit; only a damaged database lacks it
            raise windows.VisitNotFound("评价链接无效 / this rating link is not valid")
        first = _first(s, request)
        _check_time(request, first, now, request.expires_at, follow_up_allowed=False)
        clean = check(s, "window", sub)
        case = s.get(Case, visit.case_id) if visit.case_id else None
        window = visit.window_id
        rating = _save(ctx, s, request, first, clean, now, None, visit_id=visit.id, case_id=None, window_id=window,
                       item_id=case.item_id if case else None, officer_id=visit.clerk_id,
                       department_id=_visit_department(s, visit, case))
        result = view(rating, None)
        uow.commit()
        return result


def visit_state(ctx: ServiceContext, token: str) -> dict[str, Any]:
    """What the visit's rating page shows: when it was served, at which window, and whether it can still
    be rated. :raises VisitNotFound."""
    with ctx.uow() as uow:
        s, now = uow.session, ctx.clock.now()
        visit = windows.visit_of_token(s, ctx.secret_key, token)
        request = s.scalar(select(RatingRequest).where(RatingRequest.visit_id == visit.id))
        window = windows.window_view(s, s.get_one(ServiceWindow, visit.window_id))
        case_no = s.scalar(select(Case.case_no).where(Case.id == visit.case_id)) if visit.case_id else None
        first = _first(s, request) if request else None
        return {"served_at": visit.served_at, "window": window.name, "window_code": window.code,
                "case_no": windows.mask(case_no), "rated": first is not None,
                "open": request is not None and first is None and request.state == "open" and now <= request.expires_at,
                "expires_at": request.expires_at if request else None}


def case_state(ctx: ServiceContext, principal: Principal, case_no: str) -> dict[str, Any]:
    """What the applicant's rating page shows: can they rate, follow up, or has it all been said.
    :raises CaseNotFound."""
    with ctx.uow() as uow:
        s, now = uow.session, ctx.clock.now()
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or case.applicant_id != principal.id:
            raise CaseNotFound("没有这个办件 / no such case")
        request = s.scalar(select(RatingRequest).where(RatingRequest.case_id == case.id))
        given = list(s.scalars(select(Rating).where(Rating.request_id == request.id).order_by(Rating.seq))) \
            if request else []
        first = given[0] if given else None
        if request is None:
            can, deadline = False, None
        elif first is None:
            can, deadline = request.state == "open" and now <= request.expires_at, request.expires_at
        else:
            deadline = follow_up_by(ctx, s, first)
            can = first.kind == "rating" and len(given) == 1 and now <= deadline
        return {"case_no": case.case_no, "item_name": case.item.name if case.item else "",
                "finished": request is not None, "can_rate": can, "follow_up": can and first is not None,
                "rate_by": deadline, "ratings": [view(r, case.case_no) for r in given]}


def check(s: Session, channel: str, sub: Submission) -> dict[str, Any]:
    """The submission cleaned, or InvalidForm with a message per field (nothing is saved)."""
    errors: dict[str, list[str]] = {}
    level = _level(sub.level)
    if level is None:
        errors["level"] = ["请选择整体满意度（1–5）/ choose the overall level (1 to 5)"]
    wanted = DIMENSIONS[channel]
    given = sub.dimensions if isinstance(sub.dimensions, Mapping) else {}
    dims: dict[str, int] = {}
    for code, (zh, en) in wanted.items():
        value = _level(given.get(code))
        if value is None:
            errors[f"dimensions.{code}"] = [f"请选择「{zh}」的评价 / rate the {en}"]
        else:
            dims[code] = value
    for code in sorted(set(given) - set(wanted)):
        errors[f"dimensions.{code}"] = ["没有这一评价项 / no such dimension"]
    known = rules.current(s).reason_codes()
    reasons = [str(r) for r in sub.reasons] if isinstance(sub.reasons, list) else []
    unknown = [r for r in reasons if r not in known]
    if unknown:
        errors["reasons"] = [f"未知的差评原因：{', '.join(unknown)} / unknown reason(s)"]
    elif level is not None and is_bad(level) and not reasons:
        errors["reasons"] = ["差评须至少选择一项原因 / a bad rating names at least one reason"]
    elif level is not None and not is_bad(level) and reasons:
        errors["reasons"] = ["仅差评需选择原因 / reasons are given with a bad rating only"]
    comment = (sub.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"不超过 {MAX_COMMENT} 字 / at most {MAX_COMMENT} characters"]
    if errors:
        raise InvalidForm(errors, "评价未提交：请检查所填内容 / the rating was not saved: check the fields")
    return {"level": level, "dimensions": dims, "reasons": list(dict.fromkeys(reasons)), "comment": comment}


def view(rating: Rating, case_no: str | None) -> dict[str, Any]:
    return {"id": rating.id, "case_no": case_no, "channel": rating.channel, "kind": rating.kind,
            "level": rating.level, "grade": grade(rating.level), "dimensions": dict(rating.dimensions or {}),
            "reasons": list(rating.reasons or []), "comment": rating.comment, "rated_at": rating.rated_at.isoformat(),
            "follow_up_of": rating.follow_up_of_id}


def _lock(ctx: ServiceContext, s: Session, query: Any) -> RatingRequest | None:
    if ctx.db.is_postgres:
        query = query.with_for_update()
    return s.scalar(query.execution_options(populate_existing=True))


def _first(s: Session, request: RatingRequest) -> Rating | None:
    return s.scalar(select(Rating).where(Rating.request_id == request.id, Rating.seq == 1))


def _check_time(request: RatingRequest, first: Rating | None, now: datetime, deadline: datetime,
                follow_up_allowed: bool) -> None:
    if now < request.served_at:
        raise Conflict("评价时间不能早于服务时间 / a rating cannot predate the service")
    if first is not None and (not follow_up_allowed or first.kind != "rating"):
        raise Conflict("已评价，不能重复评价 / already rated" if first.kind == "rating"
                       else "评价期已结束 / the rating period has ended")
    if now > deadline:
        raise Conflict("评价期已结束 / the rating period has ended")


def follow_up_by(ctx: ServiceContext, s: Session, first: Rating) -> datetime:
    """Until when the one follow-up may be given: the window's working days after the first rating, or after
    the rectification's feedback when a bad rating was rectified later than that (the rater may rate again)."""
    days = rules.current(s).window_days
    fed_back = s.scalar(select(Rectification.fed_back_at).where(Rectification.rating_id == first.id))
    return requests.closes_at(ctx, s, max(first.rated_at, fed_back or first.rated_at), days)


def _save(ctx: ServiceContext, s: Session, request: RatingRequest, first: Rating | None, clean: dict[str, Any], now: datetime,
          rated_by: int | None, **where: Any) -> Rating:
    if first is not None and s.scalar(select(Rating.id).where(Rating.request_id == request.id,
                                                              Rating.seq == 2)) is not None:
        raise Conflict("已评价并追加评价，不能再次评价 / already rated and followed up")
    rating = Rating(request_id=request.id, seq=1 if first is None else 2, channel=request.channel,
                    kind="rating" if first is None else "follow_up", follow_up_of_id=first.id if first else None,
                    rated_by_id=rated_by, rated_at=now, **clean, **where)
    s.add(rating)
    request.state, request.remind_at = "rated", None
    s.flush()
    if is_bad(rating.level):
        for listener in bad_rating_listeners:
            listener(ctx, s, rating)
    return rating


def _level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number in LEVELS else None


def _visit_department(s: Session, visit: WindowVisit, case: Case | None) -> int | None:
    if case is not None and case.item is not None:
        return case.item.department_id
    window = s.get(ServiceWindow, visit.window_id)
    return window.department_id if window else None
