"""What the staff pages share: dates in China time, readable reasons for refused actions, safe
return addresses, links that exist only when another area provides them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.clock import CHINA_TZ
from app.errors import CaseNotFound, DomainError

from ..formjs import localized

# Why a claim (or any task action) did not happen, by DomainError class name.
REASONS = {
    "TaskNotFound": _l("the task no longer exists"),
    "TaskAlreadyCompleted": _l("the task is already completed"),
    "TaskCompleted": _l("the task is already completed"),
    "NotACandidate": _l("the task is not offered to you"),
    "TaskClaimedByOther": _l("someone else has claimed it"),
    "Conflict": _l("it was changed at the same moment; please try again"),
    "Forbidden": _l("you are not allowed to do this"),
}

LIGHT_TEXT = {"red": _l("Overdue"), "yellow": _l("Due soon"), "green": _l("On time")}


def reason(error: DomainError | str) -> str:
    name = error if isinstance(error, str) else type(error).__name__
    if name in REASONS:
        return str(REASONS[name])
    return localized(error.message) if isinstance(error, DomainError) else name


def china_dt(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    local = value.astimezone(CHINA_TZ) if value.tzinfo else value
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def remaining_text(days: int | None) -> str:
    if days is None:
        return ""
    if days > 0:
        return _("%(n)s working days left", n=days)
    if days == 0:
        return _("due today")
    return _("%(n)s working days overdue", n=-days)


def safe_next(default: str) -> str:
    """The `next` address from the form or query if it is a path on this site, else `default`."""
    target = request.form.get("next") or request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def file_url(file_id: int, inline: bool = False) -> str | None:
    """The access-checked file route (the portal area's), or None while it does not exist."""
    if not has_endpoint("files.download"):
        return None
    return url_for("files.download", file_id=file_id, inline=1) if inline else url_for("files.download", file_id=file_id)


def notice_url(notice_id: int) -> str | None:
    return url_for("documents.notice", notice_id=notice_id) if has_endpoint("documents.notice") else None


CLOCK_NAMES = {"notice": _l("Correction notice (5 working days)"), "decision": _l("Decision"),
               "issuance": _l("Issuance (10 working days)")}
UNIT_TEXT = {"wd": _l(" working days"), "d": _l(" days"), "min": _l(" minutes")}


def clock_name(clock: dict[str, Any]) -> str:
    return clock["name"] if clock["kind"] == "step" else str(CLOCK_NAMES.get(clock["kind"], clock["kind"]))


def template_helpers() -> dict[str, Any]:
    return {"clock_name": clock_name, "unit_text": lambda u: str(UNIT_TEXT.get(u, u)), "china_dt": china_dt, "remaining_text": remaining_text, "light_text": lambda c: str(LIGHT_TEXT.get(c, "")),
            "file_url": file_url, "notice_url": notice_url, "localized": localized, "event_text": event_text}


EVENT_TEXT = {
    "created": _l("Application received"), "claimed": _l("Claimed"), "unclaimed": _l("Given back to the group"),
    "completed": _l("Completed"), "withdrawn": _l("Withdrawn by the applicant"), "reassigned": _l("Reassigned"),
    "delivered": _l("Delivered"), "resubmitted": _l("Corrected materials submitted"),
    "deemed_accepted": _l("Deemed accepted (no correction notice within 5 working days)"),
    "suspended": _l("Special procedure started; the time limit stops"),
    "resumed": _l("Special procedure ended; the time limit runs again"),
    "extension_requested": _l("Extension requested"), "extension_approved": _l("Extension approved"),
    "extension_rejected": _l("Extension rejected"), "deadline_moved": _l("Deadline moved by a calendar change"),
    "supervision_order": _l("Supervision order issued"), "order_replied": _l("Supervision order answered"),
    "order_closed": _l("Supervision order closed"), "migrated": _l("Moved to another process version"),
}


def event_text(action: str) -> str:
    if action == "status":
        return _("Status changed")
    return str(EVENT_TEXT.get(action, action))


def case_action(case_no: str, section: str, act: Callable[[], Any], done: str,
                fields: Mapping[str, Any]) -> Any:
    """Run a form's action from the case page and go back to its section: `done` flashed, or each refusal
    as "<field label>: <message>" (labels from `fields`); an unknown or hidden case is a 404."""
    back = url_for(".case", case_no=case_no) + f"#{section}"
    try:
        act()
    except CaseNotFound:
        abort(404)
    except DomainError as error:
        flash("; ".join(_field_text(d, fields) for d in error.as_errors()), "error")
        return redirect(back)
    flash(done, "success")
    return redirect(back)


def _field_text(detail: dict[str, Any], fields: Mapping[str, Any]) -> str:
    message = localized(str(detail.get("message", "")))
    label = fields.get(str(detail.get("field") or ""))
    return f"{label}: {message}" if label else message
