"""Telling the applicant of each milestone of their case: in app always, by SMS and e-mail as they chose.

`notify` is the one entry point: it renders the event's template (zh) with the case fields and raises the
in-app notification and outbox rows in the caller's transaction. Its dedupe key is case + event +
occurrence, so the same milestone raised twice (a retried step, a second listener) is sent once, while a
second correction round (a new notice) is a new occurrence.

`on_step` is the engine step listener (wired in app/services/wiring.py, after the notices listener): the
notices a step issued are the milestones it reached, and their frozen content carries the case fields.
Milestones raised outside a step (special procedures, extensions, supervision) call `notify` themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, MessagePreference, Notice, User
from app.services.context import ServiceContext

from . import notifications, templates

# Notice kind -> event; a decision notice is a grant or a refusal by its content.
NOTICE_EVENTS = {"receipt": "receipt", "correction": "correction", "acceptance": "acceptance",
                 "refusal": "refusal", "decision": "decision_refused", "suspension": "special_procedure_start",
                 "extension": "extension"}
# The notification kind for the in-app list (the kinds the clocks raised before milestone messages existed).
KINDS = {"special_procedure_start": "suspension", "special_procedure_end": "suspension", "extension": "extension"}
DECIDED = "decided"  # the occurrence of either decision event
DEFAULT_LOCALE = "zh"  # until an applicant chooses otherwise, centres write to them in Chinese


def notify(ctx: ServiceContext, session: Session, case: Case, event_key: str, fields: Mapping[str, Any],
           occurrence: str | int = 1, link: str | None = None) -> notifications.Notified:
    """Tell the case's applicant of a milestone, once per (case, event, occurrence); no commit.

    `fields` are template fields (templates.FIELDS); case_no, item_name and applicant_name default to the
    case's own; `link` is where the in-app message leads (default: the case page). :raises InvalidInput: an
    unknown event key.
    """
    return notify_at(session, ctx.clock.now(), case, event_key, fields, occurrence, link)


def notify_at(session: Session, now: datetime, case: Case, event_key: str, fields: Mapping[str, Any],
              occurrence: str | int = 1, link: str | None = None) -> notifications.Notified:
    """`notify` for callers that hold a session and the time but no context (the clock sweep)."""
    chosen = session.get(MessagePreference, case.applicant_id)
    locale = chosen.locale if chosen is not None and chosen.locale else DEFAULT_LOCALE
    templates.current(session, event_key, locale)  # an unknown key fails here, before anything is written
    applicant = session.get(User, case.applicant_id)
    values = {"case_no": case.case_no, "item_name": case.item.name if case.item else "",
              "applicant_name": applicant.full_name or applicant.username if applicant else "", **fields}
    text = templates.render(session, event_key, locale, values)
    return notifications.notify(
        session, now, [case.applicant_id], KINDS.get(event_key, "milestone"), text.subject, text.body, case_id=case.id,
        link=link or f"/my/cases/{case.case_no}", channels=("app", *_channels(chosen)),
        dedupe_key=f"milestone|{case.id}|{event_key}|{occurrence}")


def _channels(chosen: MessagePreference | None) -> tuple[str, ...]:
    """The outbox channels the user has not switched off (both, until they choose)."""
    if chosen is None:
        return ("sms", "email")
    return tuple(channel for channel, on in (("sms", chosen.sms), ("email", chosen.email)) if on)


def on_step(ctx: ServiceContext, session: Session, step: Any) -> None:
    """Step listener (`step` is casework.steps.SavedStep, which this lower package cannot import)."""
    if not (step.new or step.reached):
        return
    case, issued = step.case, step.now
    # The notices listener ran first in this transaction: the notices stamped with this step's time are its.
    for notice in session.scalars(select(Notice).where(Notice.case_id == case.id, Notice.issued_at == issued)
                                  .order_by(Notice.id)):
        content = notice.content or {}
        event = NOTICE_EVENTS.get(notice.kind)
        if event is None:
            continue
        if notice.kind == "decision":  # a case is decided once: the notice and the status share one key
            event = "decision_granted" if content.get("result") == "grant" else "decision_refused"
        notify(ctx, session, case, event, notice_fields(content),
               occurrence=DECIDED if event.startswith("decision") else notice.id)
    if ("decided" in step.reached or "issued" in step.reached) and "refused" not in step.reached:
        # Where no grant notice is issued (an item decided on the spot), the status says it.
        notify(ctx, session, case, "decision_granted", {}, occurrence=DECIDED)


def notice_fields(content: Mapping[str, Any]) -> dict[str, Any]:
    """Template fields from a notice's frozen content (the names differ by notice kind)."""
    fields = {k: content[k] for k in ("case_no", "item_name", "applicant_name", "organ", "phone", "reason",
                                      "procedure_name", "expected_days", "days") if content.get(k) is not None}
    received = content.get("received_at")
    if received:
        fields["received_on"] = str(received)[:10]
    if content.get("promised_deadline"):
        fields["promised_date"] = content["promised_deadline"]
    deadline = content.get("deadline") or content.get("new_deadline") or content.get("expected_end")
    if deadline:
        fields["deadline"] = deadline
    if content.get("deficiencies"):
        fields["missing"] = [d.get("material") or d.get("requirement") or "" for d in content["deficiencies"]]
    return fields
