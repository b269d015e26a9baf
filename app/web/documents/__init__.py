"""Printable notices and receipts (收件回执, 补正告知书, 受理通知书, 不予受理通知书, 行政许可决定书, 领证回执).

One A4 page per notice, laid out like the paper original; print.css hides the site chrome. The page
reads the notice's frozen content only, so what prints is what was issued.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, abort, render_template
from flask_babel import format_date
from flask_login import login_required

from app.clock import CHINA_TZ
from app.errors import CaseNotFound
from app.services.documents import notices
from app.services.licensing import delivery

from ..i18n import select_locale
from ..ratings import visit_qr
from ..session import ctx, principal

bp = Blueprint("documents", __name__, url_prefix="/documents")

TEMPLATES = {kind: f"documents/{kind}.html" for kind in notices.PREFIXES}


@bp.get("/<id:notice_id>")
@login_required
def notice(notice_id: int) -> Any:
    """The printable page of one notice; opening it as the case's applicant marks it read."""
    try:
        view = notices.open_notice(ctx(), principal(), notice_id)
    except notices.NoticeNotFound:
        abort(404)
    template = TEMPLATES.get(view.kind)
    if template is None:  # a kind written by a newer version: nothing to lay it out with
        abort(404)
    extra = {"delivery": _pickup_delivery(view.case_no), "china": _china} if view.kind == "pickup" else {}
    return render_template(template, notice=view, c=view.content, doc_date=doc_date, doc_datetime=doc_datetime,
                           rating_qr=visit_qr(view.case_no), **extra)


def _pickup_delivery(case_no: str) -> delivery.DeliveryView | None:
    """The 领证回执 prints who collected the licence once the window recorded it (blank lines before), and the
    licence number the issuance gave when the clerk left it for the item's rule."""
    try:
        return delivery.for_case(ctx(), principal(), case_no).delivery
    except CaseNotFound:
        return None


def doc_date(value: str | date | None) -> str:
    """A date as an official document writes it: 2026年11月23日 in Chinese, 23 November 2026 in English."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if select_locale() == "zh_CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return str(format_date(day, "d MMMM y"))


def doc_datetime(value: str | datetime | None) -> str:
    """A moment (stored in China time) with its hour and minute."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return f"{doc_date(moment.date())} {moment:%H:%M}"


def _china(moment: datetime) -> datetime:
    """Stored moments are UTC; documents show China time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(CHINA_TZ)


from . import counter  # noqa: E402,F401  (the counter's pages register on this blueprint)
