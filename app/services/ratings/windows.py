"""Service windows (服务窗口), the clerk seated at each, and the visits served there (一次一评).

A visit is recorded when a window clerk prints a receipt or notice for a case: one visit per case, window
and day however many documents are printed, so every paper the applicant takes home carries the same QR.
The QR holds a signed token (HMAC with the app's secret, itsdangerous) naming the visit and its random
nonce: nobody can make up the token of another visit, and no sign-in is needed to rate with it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidForm, NotFound
from app.models import Case, Department, RatingRequest, ServiceWindow, User, WindowClerk, WindowVisit
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.workdays import as_date

from . import requests

SALT = "banjian.rating-visit"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class WindowNotFound(NotFound):
    pass


class VisitNotFound(NotFound):
    pass


@dataclass(frozen=True)
class WindowView:
    code: str
    name: str
    department: str | None
    active: bool
    clerks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "department": self.department, "active": self.active,
                "clerks": list(self.clerks)}


# --- tokens ---------------------------------------------------------------------------------------------

def visit_token(secret: str, visit: WindowVisit) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps([visit.id, visit.nonce])


def visit_of_token(s: Session, secret: str, token: str) -> WindowVisit:
    """The visit a token names. :raises VisitNotFound: a token that was not signed here or names no visit."""
    try:
        visit_id, nonce = URLSafeSerializer(secret, salt=SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise VisitNotFound("评价链接无效 / this rating link is not valid") from None
    visit = s.get(WindowVisit, visit_id) if isinstance(visit_id, int) else None
    if visit is None or not secrets.compare_digest(str(visit.nonce), str(nonce)):
        raise VisitNotFound("评价链接无效 / this rating link is not valid")
    return visit


# --- visits ---------------------------------------------------------------------------------------------

def window_of_clerk(s: Session, user_id: int) -> ServiceWindow | None:
    return s.scalar(select(ServiceWindow).join(WindowClerk, WindowClerk.window_id == ServiceWindow.id)
                    .where(WindowClerk.user_id == user_id, ServiceWindow.active.is_(True)))


def visit_for_print(ctx: ServiceContext, principal: Principal, case_no: str) -> str | None:
    """The token of today's visit of the case at the printing clerk's window (recorded now if new); None
    when the printer is no clerk seated at an active window (an applicant printing at home, an approver)."""
    if not principal.has("clerk"):
        return None
    try:
        return _visit_for_print(ctx, principal, case_no)
    except IntegrityError:  # the same visit recorded by a second print at the same moment: it exists now
        return _visit_for_print(ctx, principal, case_no)


def _visit_for_print(ctx: ServiceContext, principal: Principal, case_no: str) -> str | None:
    # Most prints are by clerks at no window, or a reprint of today's visit: a read answers those, so
    # printing takes SQLite's write lock only when a visit is new.
    with ctx.uow() as uow:
        found = _todays_visit(uow.session, ctx, principal, case_no)
        if found is None or found[1] is not None:
            return visit_token(ctx.secret_key, found[1]) if found else None
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        found = _todays_visit(s, ctx, principal, case_no)
        if found is None:
            return None
        (window, case_id, key), visit = found
        if visit is None:
            visit = record_visit(s, ctx, now, window, principal.id, case_id, key)
        token = visit_token(ctx.secret_key, visit)
        uow.commit()
        return token


def _todays_visit(s: Session, ctx: ServiceContext, principal: Principal, case_no: str
                  ) -> tuple[tuple[ServiceWindow, int, str], WindowVisit | None] | None:
    """((window, case id, visit key), today's visit or None); None when there is no window or no case."""
    window = window_of_clerk(s, principal.id)
    case_id = s.scalar(select(Case.id).where(Case.case_no == case_no)) if window else None
    if window is None or case_id is None:
        return None
    key = f"{window.id}|{case_id}|{as_date(ctx.clock.now()).isoformat()}"
    return (window, case_id, key), s.scalar(select(WindowVisit).where(WindowVisit.visit_key == key))


def record_visit(s: Session, ctx: ServiceContext, now: datetime, window: ServiceWindow, clerk_id: int | None,
                 case_id: int | None, key: str | None = None) -> WindowVisit:
    """A served visit and its rating window, in the caller's transaction."""
    visit = WindowVisit(window_id=window.id, clerk_id=clerk_id, case_id=case_id, served_at=now, visit_key=key,
                        nonce=secrets.token_hex(16))
    s.add(visit)
    s.flush()
    requests.open_for_visit(s, ctx, now, visit)
    return visit


def serve_visitor(ctx: ServiceContext, principal: Principal) -> str:
    """A visit without a case (a consultation, 咨询) at the clerk's window; returns its token.

    :raises Forbidden: the user is not a clerk seated at an active window.
    """
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        window = window_of_clerk(s, principal.id) if principal.has("clerk") else None
        if window is None:
            raise Forbidden("您未被安排在服务窗口 / you are not seated at a service window")
        token = visit_token(ctx.secret_key, record_visit(s, ctx, now, window, principal.id, None))
        uow.commit()
        return token


def latest_unrated(ctx: ServiceContext, code: str) -> tuple[WindowView, dict[str, Any] | None]:
    """For the tablet at the window: the window and its latest visit still open for rating today, shown
    without personal data (a masked case number and the time served). :raises WindowNotFound."""
    with ctx.uow() as uow:
        s, now = uow.session, ctx.clock.now()
        window = s.scalar(select(ServiceWindow).where(ServiceWindow.code == code, ServiceWindow.active.is_(True)))
        if window is None:
            raise WindowNotFound("没有这个服务窗口 / no such window")
        row = s.execute(
            select(WindowVisit, RatingRequest).join(RatingRequest, RatingRequest.visit_id == WindowVisit.id)
            .where(WindowVisit.window_id == window.id, RatingRequest.state == "open",
                   RatingRequest.expires_at > now)
            .order_by(WindowVisit.served_at.desc(), WindowVisit.id.desc()).limit(1)).first()
        view = window_view(s, window)
        if row is None or as_date(row[0].served_at) != as_date(now):
            return view, None
        visit = row[0]
        case_no = s.scalar(select(Case.case_no).where(Case.id == visit.case_id)) if visit.case_id else None
        return view, {"token": visit_token(ctx.secret_key, visit), "served_at": visit.served_at,
                      "case_no": mask(case_no)}


def mask(case_no: str | None) -> str | None:
    """SPJY20261123000001 -> SPJY************01: enough for the applicant to recognise, nothing to look up."""
    if not case_no:
        return None
    keep = min(4, len(case_no) // 3)
    return case_no[:keep] + "*" * (len(case_no) - keep - 2) + case_no[-2:]


# --- windows (administrators) -----------------------------------------------------------------------------

def list_windows(ctx: ServiceContext, principal: Principal) -> list[WindowView]:
    _admin(principal)
    with ctx.uow() as uow:
        s = uow.session
        return [window_view(s, w) for w in s.scalars(select(ServiceWindow).order_by(ServiceWindow.code))]


def save_window(ctx: ServiceContext, principal: Principal, code: str, name: str, department: str | None,
                active: bool, clerks: list[str]) -> WindowView:
    """Create or update a window by its code and seat the named clerks there (a clerk sits at one window:
    seating them here moves them from another). Audited as window.save.

    :raises Forbidden: not an administrator. :raises InvalidForm: a bad code or name, an unknown department,
    a user who is not an active clerk.
    """
    _admin(principal)
    code, name = code.strip(), name.strip()
    errors: dict[str, list[str]] = {}
    if not _CODE.match(code):
        errors["code"] = ["窗口编号为 1–32 位字母、数字、-、_ / 1 to 32 letters, digits, - or _"]
    if not 1 <= len(name) <= 100:
        errors["name"] = ["请填写窗口名称（不超过 100 字）/ a name of at most 100 characters"]
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        dept = s.scalar(select(Department).where(Department.code == department)) if department else None
        if department and dept is None:
            errors["department"] = [f"没有部门 {department} / no department {department}"]
        users = list(s.scalars(select(User).where(User.username.in_(set(clerks)))))
        bad = sorted(set(clerks) - {u.username for u in users if u.active and "clerk" in u.roles})
        if bad:
            errors["clerks"] = [f"不是在岗的窗口人员：{', '.join(bad)} / not active clerks: {', '.join(bad)}"]
        if errors:
            raise InvalidForm(errors)
        window = s.scalar(select(ServiceWindow).where(ServiceWindow.code == code))
        before = window_view(s, window).as_dict() if window else {}
        if window is None:
            window = ServiceWindow(code=code, created_at=now)
            s.add(window)
        window.name, window.department_id, window.active = name, dept.id if dept else None, active
        s.flush()
        _seat(s, window, users)
        after = window_view(s, window).as_dict()
        changed_before, changed_after = audit.changes(before, after)
        if changed_after:
            audit.record(s, principal, now, "window.save", "window", code, f"服务窗口 {code} {name}",
                         changed_before, changed_after)
        uow.commit()
        return window_view(s, window)


def _seat(s: Session, window: ServiceWindow, users: list[User]) -> None:
    wanted = {u.id for u in users}
    for seat in s.scalars(select(WindowClerk).where(WindowClerk.window_id == window.id)):
        if seat.user_id not in wanted:
            s.delete(seat)
    for user in users:
        seat = s.get(WindowClerk, user.id)
        if seat is None:
            s.add(WindowClerk(user_id=user.id, window_id=window.id))
        else:
            seat.window_id = window.id
    s.flush()


def window_view(s: Session, window: ServiceWindow) -> WindowView:
    dept = s.get(Department, window.department_id) if window.department_id else None
    clerks = s.scalars(select(User.username).join(WindowClerk, WindowClerk.user_id == User.id)
                       .where(WindowClerk.window_id == window.id).order_by(User.username))
    return WindowView(window.code, window.name, dept.code if dept else None, window.active, tuple(clerks))


def _admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("仅管理员可管理服务窗口 / administrators only")
