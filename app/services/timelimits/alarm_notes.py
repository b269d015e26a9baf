"""Who hears of a fired alarm: the department's heads (one message per department and batch, naming
each case once however many of its clocks went red, and a case once per sweep across its batches), and
for a deemed acceptance the applicant as well. Called with the alarms inserted just now only, so nobody
hears of one twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case
from app.services.messaging import milestones, notifications

SHOWN = 20  # case numbers written out in one message; the rest are counted


def tell_applicant(s: Session, alarm: dict[str, Any], now: datetime) -> None:
    """A deemed acceptance (Art. 32), told to the applicant in the app and by text message."""
    case_no, applicant_id = s.execute(select(Case.case_no, Case.applicant_id)
                                      .where(Case.id == alarm["case_id"])).one()
    notifications.notify(
        s, now, [applicant_id], "deemed_accepted", f"您的申请 {case_no} 已视为受理",
        "行政机关未在五个工作日内一次告知补正，自收到申请材料之日起即为受理（《行政许可法》第三十二条）。",
        case_id=alarm["case_id"], link=f"/my/cases/{case_no}", channels=("app", "sms"), dedupe_key=alarm["key"])


def tell_applicants_of_delays(s: Session, fired: list[dict[str, Any]], now: datetime) -> None:
    """A decision limit gone red: the applicant hears that the case is late and the heads were told (the
    alarm's key is the occurrence, so a limit that moves and runs out again is told again)."""
    for alarm in fired:
        if alarm["level"] == "red" and str(alarm.get("message") or "").split(":")[0] == "decision":
            case = s.get(Case, alarm["case_id"])
            if case is not None:
                milestones.notify_at(s, now, case, "delay", {}, occurrence=alarm["key"])


def tell_heads(s: Session, fired: list[dict[str, Any]], now: datetime, told: set[tuple[str, int]]) -> None:
    """Tell each department's heads of its cases gone red; `told` holds the (department, case id) pairs
    already told in this sweep and is updated."""
    by_department: dict[str, list[int]] = {}
    for alarm in fired:
        pair = (alarm["department"], alarm["case_id"])
        if alarm["level"] == "red" and alarm["department"] and pair not in told:
            told.add(pair)
            by_department.setdefault(alarm["department"], []).append(alarm["case_id"])
    if not by_department:
        return
    ids = {cid for cids in by_department.values() for cid in cids}
    numbers = {cid: no for cid, no in s.execute(select(Case.id, Case.case_no).where(Case.id.in_(ids)))}
    for department, case_ids in by_department.items():
        case_nos = [numbers[cid] for cid in case_ids]
        shown = "、".join(case_nos[:SHOWN]) + (f" 等 {len(case_nos)} 件" if len(case_nos) > SHOWN else "")
        notifications.notify_groups(
            s, now, [f"{department}.head"], "alarm", f"{len(case_nos)} 件办件红灯预警",
            f"以下办件已超过办理时限：{shown}", case_id=None, link="/staff/inbox?view=overdue")
