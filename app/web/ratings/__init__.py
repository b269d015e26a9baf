"""好差评 pages: the applicant rates a finished case (/my/cases/<no>/rate, linked from the invitation),
anyone rates a window visit by the QR on their receipt (/rate/visit/<token>) or on the window's tablet
(/rate/window/<code>), with no sign-in and no personal data shown; supervisors list the ratings (/ratings); staff follow the rectifications of bad ratings (/ratings/rectifications)
and the applicant sees their progress on the case page (`case_rectifications`)."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from typing import Any

import segno
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import CaseNotFound, Conflict, Forbidden, InvalidForm, NotFound
from app.models import CLASSIFICATIONS, RATING_CHANNELS, RATING_KINDS, RECTIFICATION_STATES
from app.services.ratings import levels, listing, rate, rules, windows
from app.services.ratings import rectification_views as rectifications
from app.services.ratings.windows import latest_unrated

from ..formjs import localized
from ..i18n import select_locale
from ..params import date_arg, page_arg
from ..portal.common import china_time
from ..session import STAFF, ctx, principal, roles_required
from ..staff.common import LIGHT_TEXT

bp = Blueprint("ratings", __name__)


def visit_qr(case_no: str) -> dict[str, str] | None:
    """For a receipt or notice printed at a window: the QR (PNG data URI) and address of the visit's rating
    page; None when the printer is not a clerk seated at a window."""
    if not current_user.is_authenticated:
        return None
    token = windows.visit_for_print(ctx(), principal(), case_no)
    return _qr(token) if token else None


def case_rating(case_no: str) -> dict[str, Any] | None:
    """For the applicant's case page: whether the finished case can be rated (or followed up) and what was
    said; None for anyone but its applicant."""
    if not current_user.is_authenticated:
        return None
    try:
        return rate.case_state(ctx(), principal(), case_no)
    except CaseNotFound:
        return None


def case_rectifications(case_no: str) -> list[dict[str, Any]]:
    """For the applicant's case page: how the rectifications of their bad ratings stand ([] for anyone else)."""
    if not current_user.is_authenticated:
        return []
    return rectifications.for_rated_case(ctx(), principal(), case_no)


def _qr(token: str) -> dict[str, str]:
    url = url_for("ratings.visit", token=token, _external=True)
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=4, border=4)
    return {"url": url, "src": "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")}


@bp.route("/staff/window", methods=["GET", "POST"])
@roles_required("clerk")
def my_window() -> Any:
    """The clerk's window: its tablet page, and a visit without a case (a consultation, 咨询) recorded on
    request with the QR to show or print for the visitor."""
    with ctx().uow() as uow:
        seated = windows.window_of_clerk(uow.session, principal().id)
        view = windows.window_view(uow.session, seated) if seated else None
    qr = None
    if request.method == "POST" and view is not None:
        qr = _qr(windows.serve_visitor(ctx(), principal()))
    return render_template("ratings/my_window.html", window=view, rating_qr=qr)


def pick(pair: tuple[str, str] | dict[str, str]) -> str:
    """The Chinese or English of a (zh, en) pair or a reason {zh, en} for the page's language."""
    zh_first = select_locale() == "zh_CN"
    if isinstance(pair, dict):
        return pair["zh"] if zh_first else pair.get("en") or pair["zh"]
    return pair[0] if zh_first else pair[1]


def submission() -> rate.Submission:
    f = request.form
    return rate.Submission(f.get("level", ""), {k[4:]: v for k, v in f.items() if k.startswith("dim-")},
                           f.getlist("reasons"), f.get("comment", ""))


def _form(channel: str, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None
          ) -> dict[str, Any]:
    return {"channel": channel, "levels": levels.LEVELS, "dimensions": levels.DIMENSIONS[channel],
            "overall": levels.OVERALL, "reasons": rules.get(ctx()).reasons, "values": values or {},
            "errors": errors or {}, "pick": pick, "bad_levels": levels.BAD_LEVELS}


def _values() -> dict[str, Any]:
    f = request.form
    return {"level": f.get("level", ""), "reasons": f.getlist("reasons"), "comment": f.get("comment", ""),
            **{k: v for k, v in f.items() if k.startswith("dim-")}}


@bp.route("/my/cases/<case_no>/rate", methods=["GET", "POST"])
@login_required
def rate_case(case_no: str) -> Any:
    try:
        state = rate.case_state(ctx(), principal(), case_no)
    except CaseNotFound:
        abort(404)
    if request.method == "GET":
        return _case_page(state)
    try:
        rate.rate_case(ctx(), principal(), case_no, submission())
    except InvalidForm as exc:
        return _case_page(state, _values(), exc.field_errors, status=422)
    except Conflict as exc:
        return _case_page(rate.case_state(ctx(), principal(), case_no), message=localized(exc.message), status=409)
    return _case_page(rate.case_state(ctx(), principal(), case_no), thanks=True)


def _case_page(state: dict[str, Any], values: dict[str, Any] | None = None,
               errors: dict[str, list[str]] | None = None, message: str | None = None, thanks: bool = False,
               status: int = 200) -> Any:
    return render_template("ratings/case.html", state=state, message=message, thanks=thanks,
                           **_form("online", values, errors)), status


@bp.route("/rate/visit/<string(maxlength=200):token>", methods=["GET", "POST"])
def visit(token: str) -> Any:
    try:
        state = rate.visit_state(ctx(), token)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _visit_page(token, state)
    try:
        rate.rate_visit(ctx(), token, submission())
    except InvalidForm as exc:
        return _visit_page(token, state, _values(), exc.field_errors, status=422)
    except Conflict as exc:
        return _visit_page(token, rate.visit_state(ctx(), token), message=localized(exc.message), status=409)
    return _visit_page(token, rate.visit_state(ctx(), token), thanks=True)


def _visit_page(token: str, state: dict[str, Any], values: dict[str, Any] | None = None,
                errors: dict[str, list[str]] | None = None, message: str | None = None, thanks: bool = False,
                status: int = 200) -> Any:
    return render_template("ratings/visit.html", state=state, token=token, message=message, thanks=thanks,
                           action=url_for("ratings.visit", token=token), **_form("window", values, errors)), status


@bp.route("/rate/window/<string(maxlength=32):code>", methods=["GET", "POST"])
def window(code: str) -> Any:
    """The tablet at the window: its latest visit still open today. The form posts the visit's token, so a
    rating is of the visit shown, even when the clerk served the next visitor meanwhile."""
    try:
        view, current = latest_unrated(ctx(), code)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _tablet(view, current)
    token = request.form.get("token", "")
    try:
        rate.rate_visit(ctx(), token, submission())
    except InvalidForm as exc:
        return _tablet(view, current, _values(), exc.field_errors, status=422)
    except (Conflict, NotFound) as exc:
        return _tablet(view, latest_unrated(ctx(), code)[1], message=localized(exc.message), status=409)
    return _tablet(view, latest_unrated(ctx(), code)[1], thanks=True)


def _tablet(view: Any, current: dict[str, Any] | None, values: dict[str, Any] | None = None,
            errors: dict[str, list[str]] | None = None, message: str | None = None, thanks: bool = False,
            status: int = 200) -> Any:
    return render_template("ratings/tablet.html", window=view, current=current, message=message, thanks=thanks,
                           action=url_for("ratings.window", code=view.code), **_form("window", values, errors)), status


@bp.get("/ratings")
@roles_required("supervisor")
def index() -> Any:
    args = request.args
    flt, errors = _filter(args)
    try:
        page = listing.list_ratings(ctx(), principal(), flt, page_arg(args), 20)
    except Forbidden:
        abort(403)
    kept = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("ratings/list.html", page=page, flt=flt, args=kept, errors=errors, pick=pick,
                           levels=levels.LEVELS, grades=levels.GRADE_NAMES, channels=RATING_CHANNELS,
                           kinds=RATING_KINDS, dimension_names=levels.DIMENSIONS)


@bp.get("/ratings/rectifications")
@roles_required(*STAFF)
def rectification_list() -> Any:
    args = request.args
    choice = {"state": RECTIFICATION_STATES, "classification": (*CLASSIFICATIONS, "pending")}
    picked = {k: (args.get(k) if args.get(k) in allowed else None) for k, allowed in choice.items()}
    errors = [k for k in choice if args.get(k) and picked[k] is None]
    flt = rectifications.RectificationFilter(department=args.get("department", "").strip()[:64] or None, **picked)
    page = rectifications.list_rectifications(ctx(), principal(), flt, page_arg(args), 20)
    kept = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("ratings/rectifications.html", page=page, flt=flt, args=kept, errors=errors,
                           light_text=lambda c: str(LIGHT_TEXT.get(c, "")),
                           at=lambda iso: china_time(datetime.fromisoformat(iso)) if iso else ""), 400 if errors else 200


def _filter(args: Any) -> tuple[listing.RatingFilter, list[str]]:
    """The list's filters from the query string; a value that cannot be read is dropped and named."""
    errors: list[str] = []

    def day(name: str) -> date | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date_arg(raw)
        except ValueError:
            errors.append(name)
            return None

    level_raw = args.get("level", "").strip()
    level = int(level_raw) if level_raw in {"1", "2", "3", "4", "5"} else None
    if level_raw and level is None:
        errors.append("level")
    choice = {"grade": levels.GRADES, "channel": RATING_CHANNELS, "kind": RATING_KINDS}
    picked = {k: (args.get(k) if args.get(k) in allowed else None) for k, allowed in choice.items()}
    errors += [k for k in choice if args.get(k) and picked[k] is None]
    text = {k: (args.get(k, "").strip()[:64] or None) for k in ("department", "item", "window", "officer")}
    return listing.RatingFilter(**text, level=level, **picked, since=day("from"), until=day("to")), errors


bp.add_app_template_filter(localized, "localized")
bp.add_app_template_global(case_rating, "case_rating")
bp.add_app_template_global(case_rectifications, "case_rectifications")
bp.add_app_template_global(lambda level: levels.level_name(level, "en" if select_locale() == "en" else "zh"),
                           "rating_level_name")
