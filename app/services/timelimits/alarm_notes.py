"""Who hears of a fired alarm: the department's heads (one message per department and batch, so a
catch-up after downtime does not bury the bell), and for a deemed acceptance the applicant as well.
Called with the alarms inserted just now only, so nobody hears of one twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case
from app.services.messaging import notifications


def send(s: Session, fired: list[dict[str, Any]], now: datetime) -> None:
    wanted = [a for a in fired if a["level"] == "red"]
    if not wanted:
        return
    cases = {cid: (no, applicant) for cid, no, applicant in s.execute(
        select(Case.id, Case.case_no, Case.applicant_id).where(Case.id.in_({a["case_id"] for a in wanted})))}
    by_department: dict[str, list[str]] = defaultdict(list)
    for alarm in wanted:
        case_no, applicant_id = cases[alarm["case_id"]]
        if alarm["department"]:
            by_department[alarm["department"]].append(case_no)
        if alarm["kind"] == "deemed":
            notifications.notify(
                s, now, [applicant_id], "deemed_accepted", f"您的申请 {case_no} 已视为受理",
                "行政机关未在五个工作日内一次告知补正，自收到申请材料之日起即为受理（《行政许可法》第三十二条）。",
                case_id=alarm["case_id"], link=f"/my/cases/{case_no}", channels=("app", "sms"),
                dedupe_key=alarm["key"])
    for department, case_nos in by_department.items():
        shown = "、".join(case_nos[:20]) + (f" 等 {len(case_nos)} 件" if len(case_nos) > 20 else "")
        notifications.notify_groups(
            s, now, [f"{department}.head"], "alarm", f"{len(case_nos)} 件办件红灯预警",
            f"以下办件已超过办理时限：{shown}", case_id=None, link="/staff/inbox?view=overdue")
