"""The working-day calendar page: a year's twelve months, editing one day, importing a year's
arrangement (JSON or CSV, with every bad line listed), and marking a year published."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.clock import CHINA_TZ
from app.errors import DomainError, InvalidInput
from app.services.admin import calendar_admin
from app.services.admin.calendar_files import LAST_YEAR, MAX_BYTES, parse_arrangement, parse_date
from app.workdays import FIRST_YEAR

from ..formjs import localized
from ..session import ctx, principal, roles_required
from . import bp

admin_required = roles_required()  # administrators only (roles_required always admits "admin")

KIND_CHOICES = {"": _l("Weekday rule (Mon–Fri work)"), "holiday": _l("Holiday"),
                "workday": _l("Make-up working day"), "local": _l("Local extra holiday")}
SOURCE_TEXT = {"chinesecalendar": _l("State Council (package)"), "import": _l("Imported"), "admin": _l("Edited"),
               "local": _l("Local"), "statutory": _l("Statutory festival (provisional)")}
MONTHS = (_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
          _l("August"), _l("September"), _l("October"), _l("November"), _l("December"))
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
# Festival names as chinesecalendar (English) and holidays / imports (Chinese) spell them.
FESTIVALS = {
    "New Year's Day": _l("New Year's Day"), "元旦": _l("New Year's Day"),
    "Spring Festival": _l("Spring Festival"), "春节": _l("Spring Festival"),
    "农历除夕": _l("Spring Festival Eve"), "Tomb-sweeping Day": _l("Tomb-sweeping Day"), "清明节": _l("Tomb-sweeping Day"),
    "Labour Day": _l("Labour Day"), "劳动节": _l("Labour Day"),
    "Dragon Boat Festival": _l("Dragon Boat Festival"), "端午节": _l("Dragon Boat Festival"),
    "Mid-autumn Festival": _l("Mid-autumn Festival"), "中秋节": _l("Mid-autumn Festival"),
    "National Day": _l("National Day"), "国庆节": _l("National Day"),
    "Anti-Fascist 70th Day": _l("Victory Day (70th anniversary)"),
}


def festival(name: str) -> str:
    """A festival name in the page's language; names the table does not know are shown as written."""
    return "; ".join(str(FESTIVALS.get(part.strip(), part.strip())) for part in name.split(";")) if name else ""


@bp.get("/calendar")
@admin_required
def calendar() -> Any:
    return redirect(url_for(".calendar_year", year=ctx().clock.now().astimezone(CHINA_TZ).year))


@bp.get("/calendar/<int:year>")
@admin_required
def calendar_year(year: int) -> Any:
    return _page(year)


@bp.post("/calendar/<int:year>/day")
@admin_required
def set_day(year: int) -> Any:
    form = request.form
    day = parse_date(form.get("date"))
    choice = form.get("kind", "")
    if day is None or choice not in KIND_CHOICES:
        flash(_("Choose a date and what it should be."), "error")
        return redirect(url_for(".calendar_year", year=year))
    kind = {"": None, "local": "holiday"}.get(choice, choice)
    try:
        result = calendar_admin.set_day(ctx(), principal(), day, kind, form.get("name", ""), local=choice == "local")
    except DomainError as error:
        flash(_("%(day)s was not changed: %(reason)s", day=day.isoformat(), reason=_reasons(error)), "error")
        return redirect(url_for(".calendar_year", year=day.year))
    flash(_("%(day)s is now: %(kind)s. %(n)s open deadline(s) moved.", day=day.isoformat(),
            kind=KIND_CHOICES[choice], n=result.deadlines_moved), "success")
    return redirect(url_for(".calendar_year", year=day.year))


@bp.post("/calendar/import")
@admin_required
def import_year() -> Any:
    upload = request.files.get("file")
    back = request.form.get("year", type=int) or ctx().clock.now().astimezone(CHINA_TZ).year
    if upload is None or not upload.filename:
        flash(_("Choose a JSON or CSV file first."), "error")
        return redirect(url_for(".calendar_year", year=back))
    try:
        year, entries = parse_arrangement(upload.read(MAX_BYTES + 1))
        result = calendar_admin.import_year(ctx(), principal(), year, entries, ctx().clock.now())
    except InvalidInput as error:
        return _page(back, import_errors=[(_where(d.get("field") or ""), localized(d["message"]))
                                          for d in error.as_errors()], filename=upload.filename), 400
    flash(_("%(year)s imported: %(n)s days, published; %(moved)s open deadline(s) moved.", year=result.year,
            n=result.days, moved=result.deadlines_moved), "success")
    return redirect(url_for(".calendar_year", year=result.year))


@bp.post("/calendar/<int:year>/publish")
@admin_required
def publish(year: int) -> Any:
    published = request.form.get("published") == "1"
    try:
        result = calendar_admin.set_published(ctx(), principal(), year, published)
    except DomainError as error:
        flash(_reasons(error), "error")
        return redirect(url_for(".calendar_year", year=min(max(year, FIRST_YEAR), LAST_YEAR)))
    text = _("%(year)s is marked published.", year=year) if published else \
        _("%(year)s is marked not published: its deadlines are provisional.", year=year)
    flash(f"{text} " + _("%(n)s open deadline(s) moved.", n=result.deadlines_moved), "success")
    return redirect(url_for(".calendar_year", year=year))


def _page(year: int, **extra: Any) -> Any:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return render_template("errors/error.html", code=404, message=""), 404
    view = calendar_admin.calendar_year_view(ctx(), year, principal())
    today = ctx().clock.now().astimezone(CHINA_TZ).date()
    return render_template(
        "admin/calendar.html", view=view, year=year, today=today, months=MONTHS, weekdays=WEEKDAYS,
        kind_choices=KIND_CHOICES, source_text=lambda s: str(SOURCE_TEXT.get(s or "", s or "")), festival=festival,
        first_year=FIRST_YEAR, last_year=LAST_YEAR, default_day=_default_day(year, today), **extra)


def _default_day(year: int, today: date) -> str:
    return (today if today.year == year else date(year, 1, 1)).isoformat()


def _where(field: str) -> str:
    """"line 3" / "days[2]" in the page's language."""
    number = re.fullmatch(r"line (\d+)|days\[(\d+)\]", field)
    if number is None:
        return field
    return _("line %(n)s", n=number.group(1)) if number.group(1) else _("entry %(n)s", n=int(number.group(2)) + 1)


def _reasons(error: DomainError) -> str:
    return "; ".join(localized(d["message"]) for d in error.as_errors())
