"""差评整改 (GB/T 39734 §9; 国办发〔2019〕51号): every bad rating starts a case of the internal rectification
item, run by the process `bpmn/rating_rectification.bpmn` like any other case (its tasks in the inboxes,
its step limits as clocks with the same lights, alarms and supervision orders). The `rectifications` row
keeps what the indicators count and is written from the steps of that case:

| step (BPMN id)  | who                               | sets on the row                                        |
|-----------------|-----------------------------------|--------------------------------------------------------|
| callback 回访   | centre clerks, 1 working day       | called_back_at, callback_outcome                       |
| classify 研判   | centre clerks                     | classification (valid at once; mistaken/malicious only once reviewed), reason |
| review 复核     | supervisors                       | classification: upheld -> as proposed, overturned -> valid |
| rectify 整改    | the rated department's approvers, 15 working days | rectification (or an appeal 申诉)            |
| appeal 申诉复核 | supervisors                       | upheld -> classification mistaken (closed unrectified) |
| feedback 反馈   | centre clerks                     | accepted -> rectified_at, feedback, fed_back_at; the rater is told and may follow up |
| end             |                                   | state closed, closed_at                                |

The rectification case is marked `channel = "internal"`: no receipt, no notice clock, no rating window of its
own. Its item is kept inactive, so it is not in the catalogue and nobody applies for it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.runtime import EngineFailure
from app.models import Case, Department, Item, MessagePreference, Rating, User, WindowVisit
from app.models.rectification import Rectification
from app.services import audit
from app.services.casework.cases import next_case_no
from app.services.casework.processes import bundle_for, latest_definition
from app.services.casework.steps import add_event, save_step
from app.services.context import ServiceContext
from app.services.messaging import notifications

from . import rules
from .invite import public_link, rate_link
from .levels import level_name

ITEM_CODE = "420100-ZWFW-HCP"  # 差评整改, the centre's internal item (demo data; an administrator may create it)
INTERNAL = "internal"  # Case.channel of a case the system started for itself
log = logging.getLogger(__name__)


def on_bad_rating(ctx: ServiceContext, s: Session, rating: Rating) -> None:
    """Bad-rating listener (ratings.rate): open the rating's rectification and start its case, in the
    rating's transaction. A rating has one rectification at most. Without the item or its process, or when
    the process fails to start, the rating and an open row without a case are kept (and logged): the rating
    must never be lost for a rectification that cannot start."""
    if s.scalar(select(Rectification.id).where(Rectification.rating_id == rating.id)) is not None:
        return
    now = ctx.clock.now()
    department = rating.department_id or s.scalar(select(Item.department_id).where(Item.code == ITEM_CODE))
    row = Rectification(rating_id=rating.id, department_id=department, state="open", opened_at=now,
                        classification_reason="", callback_outcome="", rectification="", feedback="")
    s.add(row)
    s.flush()
    try:
        with s.begin_nested():
            row.case_id = _start_case(ctx, s, rating, row, now)
    except (EngineFailure, LookupError) as exc:
        log.warning("rating %s: its rectification case could not start: %s", rating.id, exc)


def _start_case(ctx: ServiceContext, s: Session, rating: Rating, row: Rectification, now: datetime) -> int:
    item = s.scalar(select(Item).where(Item.code == ITEM_CODE))
    if item is None:
        raise LookupError(f"no item {ITEM_CODE}")
    applicant = _rater(s, rating)
    if applicant is None:
        raise LookupError("an anonymous rating of a visit without a case has nobody to call back")
    definition = latest_definition(s, item.process_key)
    bundle = bundle_for(ctx, s, definition.id)
    case_no = next_case_no(ctx, s, item.case_prefix, now)
    workflow, result = ctx.engine.start(bundle, _initial(s, rating, row, item, case_no, applicant), ctx.clock.now)
    case = Case(case_no=case_no, item_id=item.id, process_definition_id=definition.id, application={},
                applicant_id=applicant.id, status="submitted", received_at=now, created_at=now, updated_at=now,
                channel=INTERNAL)
    s.add(case)
    s.flush()
    add_event(s, case, now, "created", None, message=f"{item.name} ({definition.key} v{definition.version})",
              data_after={"rating_id": rating.id})
    save_step(ctx, s, case, workflow, bundle, result, now, None, new=True)
    return case.id


def _rater(s: Session, rating: Rating) -> User | None:
    """Who is called back: the signed-in rater, else the applicant of the case the visit served."""
    if rating.rated_by_id is not None:
        return s.get(User, rating.rated_by_id)
    case_id = rating.case_id or (s.scalar(select(WindowVisit.case_id).where(WindowVisit.id == rating.visit_id))
                                 if rating.visit_id else None)
    return s.scalar(select(User).join(Case, Case.applicant_id == User.id).where(Case.id == case_id)) if case_id else None


def _initial(s: Session, rating: Rating, row: Rectification, item: Item, case_no: str, rater: User) -> dict[str, Any]:
    dept = s.get(Department, row.department_id) if row.department_id else None
    rated = s.get(Case, rating.case_id) if rating.case_id else None
    names = {r["code"]: r.get("zh") or r["code"] for r in rules.current(s).reasons}
    return {"case_no": case_no, "item_code": item.code, "item_name": item.name, "rectification_id": row.id,
            "rating_id": rating.id, "rating_level": rating.level, "rating_level_name": level_name(rating.level, "zh"),
            "rating_reasons": [names.get(r, r) for r in rating.reasons or []], "rating_comment": rating.comment,
            "rating_reasons_text": "、".join(names.get(r, r) for r in rating.reasons or []),
            "rating_channel": rating.channel, "rated_case_no": rated.case_no if rated else "",
            "rated_item_name": rated.item.name if rated and rated.item else "",
            "responsible_department": dept.code if dept else "service_center",
            "responsible_department_name": dept.name if dept else "",
            "applicant": rater.username, "applicant_name": rater.full_name, "applicant_phone": rater.phone or "",
            "departments": [], "material_names": []}


# -- the steps of the rectification case --------------------------------------------------------------

def on_step(ctx: ServiceContext, s: Session, step: Any) -> None:
    """Step listener (`step` is casework.steps.SavedStep): carry what a rectification task decided onto the
    row; nothing (no query) for any other case."""
    if step.case.channel != INTERNAL or step.new:
        return
    row = s.scalar(select(Rectification).where(Rectification.case_id == step.case.id))
    if row is None:
        return
    actor = s.get(User, step.actor_id) if step.actor_id else None
    for passed in step.result.passed:
        if passed.manual and passed.key in _APPLY:
            done = step.completed_data(passed.key)
            if done:
                _APPLY[passed.key](ctx, s, row, done[0], step.now, actor)  # the most recent first
    if step.case.closed_at is not None and row.state != "closed":
        row.state, row.closed_at = "closed", step.now
        _audit(s, actor, step.now, "rectification.close", row, {"state": "closed"})


def _callback(ctx: ServiceContext, s: Session, row: Rectification, data: dict[str, Any], now: datetime,
              actor: User | None) -> None:
    reached = data.get("callback_result") != "unreachable"
    row.called_back_at = now
    row.callback_outcome = ("" if reached else "【未能联系评价人】") + str(data.get("callback_outcome") or "")
    _audit(s, actor, now, "rectification.callback", row, {"callback_outcome": row.callback_outcome})


def _classify(ctx: ServiceContext, s: Session, row: Rectification, data: dict[str, Any], now: datetime,
              actor: User | None) -> None:
    proposed = str(data.get("classification") or "")
    row.classification_reason = str(data.get("classification_reason") or "")
    if proposed == "valid":  # final at once; mistaken and malicious wait for the supervisor's review
        row.classification = "valid"
    _audit(s, actor, now, "rectification.classify", row, {"proposed": proposed, "reason": row.classification_reason})


def _review(ctx: ServiceContext, s: Session, row: Rectification, data: dict[str, Any], now: datetime,
            actor: User | None) -> None:
    upheld = data.get("review_result") == "upheld"
    row.classification = str(data.get("classification")) if upheld else "valid"
    if not upheld:
        row.classification_reason = f"复核撤销原认定：{data.get('review_opinion') or ''}"
    _audit(s, actor, now, "rectification.review", row, {"classification": row.classification,
                                                          "opinion": data.get("review_opinion")})


def _rectify(ctx: ServiceContext, s: Session, row: Rectification, data: dict[str, Any], now: datetime,
             actor: User | None) -> None:
    appeal = data.get("rectify_result") == "appeal"
    if not appeal:
        row.rectification = str(data.get("rectification") or "")
    _audit(s, actor, now, "rectification.appeal" if appeal else "rectification.rectify", row,
           {"text": data.get("rectification")})


def _appeal(ctx: ServiceContext, s: Session, row: Rectification, data: dict[str, Any], now: datetime,
            actor: User | None) -> None:
    if data.get("appeal_result") == "upheld":
        row.classification = "mistaken"
        row.classification_reason = f"申诉成立：{data.get('appeal_opinion') or ''}"
    _audit(s, actor, now, "rectification.appeal_review", row, {"result": data.get("appeal_result"),
                                                                "classification": row.classification})


def _feedback(ctx: ServiceContext, s: Session, row: Rectification, data: dict[str, Any], now: datetime,
              actor: User | None) -> None:
    if data.get("feedback_result") != "accepted":
        _audit(s, actor, now, "rectification.return", row, {"feedback": data.get("feedback")})
        return
    row.rectified_at, row.fed_back_at, row.feedback = now, now, str(data.get("feedback") or "")
    _audit(s, actor, now, "rectification.feedback", row, {"feedback": row.feedback})
    _tell_rater(ctx, s, row, now)


_APPLY = {"callback": _callback, "classify": _classify, "review": _review, "rectify": _rectify, "appeal": _appeal,
          "feedback": _feedback}


def _tell_rater(ctx: ServiceContext, s: Session, row: Rectification, now: datetime) -> None:
    """The feedback, in app and by SMS / e-mail, with the way to follow up (追加评价) on the rated case."""
    rating = s.get_one(Rating, row.rating_id)
    rater_id = rating.rated_by_id or s.scalar(select(Case.applicant_id).where(Case.id == row.case_id))
    rated = s.get(Case, rating.case_id) if rating.case_id else None
    # the one follow-up (追加评价) is the rating again; a rater who already followed up has said it
    followed = s.scalar(select(Rating.id).where(Rating.request_id == rating.request_id, Rating.seq == 2))
    can_follow_up = rated is not None and rating.seq == 1 and rating.rated_by_id is not None and followed is None
    link = rate_link(rated.case_no) if can_follow_up and rated else None
    body = f"您的评价已整改：{row.feedback}"
    if link:
        body += f"\n欢迎再次评价（追加评价）：{public_link(ctx, link)}"
    chosen = s.get(MessagePreference, rater_id)  # the channels the rater kept on (both until they choose)
    channels = ("sms", "email") if chosen is None else tuple(c for c, on in (("sms", chosen.sms),
                                                                              ("email", chosen.email)) if on)
    notifications.notify(s, now, [rater_id], "milestone", f"差评整改反馈{'：' + rated.case_no if rated else ''}",
                         body, case_id=rated.id if rated else None, link=link or "/notifications",
                         channels=("app", *channels), dedupe_key=f"rectification:{row.id}:feedback")


def _audit(s: Session, actor: User | None, now: datetime, action: str, row: Rectification,
           after: dict[str, Any]) -> None:
    audit.record(s, actor, now, action, "rectification", row.id, action.split(".", 1)[1], None, after)
