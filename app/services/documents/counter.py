"""Documents the counter prints on demand: the 存档回执单 (the window files a case's paper materials) and
the 审批签批表 (every completed step's officer, opinion and time on one page).

Unlike notices these are not issued to the applicant, so nothing is frozen or numbered from a counter:
each page is read from the case as it stands, and printing it twice gives the same page. Staff only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.errors import CaseNotFound
from app.forms import FormDefinition
from app.models import Case, CaseEvent, CaseFile, User, case_terms
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal

# Form components that hold a step's conclusion or its written opinion (审查意见, 决定理由, 会签意见,
# 备注); the other fields of a step (licence numbers, dates, addresses) are data, not an opinion.
OPINION_TYPES = {"radio", "select", "textarea", "dynamiclist"}
# Without the step's form, the field names of the reference forms say which fields are opinions.
OPINION_SUFFIXES = ("_result", "_opinion", "_reason", "_comment", "_remarks", "_note", "_decision")
OPINION_NAMES = {"decision", "deficiencies"}


@dataclass(frozen=True)
class Officer:
    name: str
    staff_no: str
    department: str


@dataclass(frozen=True)
class CaseFacts:
    case_no: str
    item_code: str
    item_name: str
    applicant_name: str
    received_at: datetime | None
    accepted_at: datetime | None
    organ: str  # the implementing agency (签批表) or the accepting window (存档回执单)


@dataclass(frozen=True)
class FiledMaterial:
    name: str
    required: bool
    files: int  # electronic copies already on the case
    copies: str = ""  # 份数 and 原件/复印件, when the item says; else written in by hand
    original: str = ""


@dataclass(frozen=True)
class ArchiveReceipt:
    facts: CaseFacts
    number: str
    materials: list[FiledMaterial]
    officer: Officer | None
    filed_at: datetime | None


@dataclass(frozen=True)
class SignedStep:
    event_id: int
    name: str
    officer: Officer | None
    at: datetime
    data: dict[str, Any]  # what the step entered; `opinion_of` picks its conclusion and opinion


@dataclass(frozen=True)
class SignoffSheet:
    facts: CaseFacts
    number: str
    steps: list[SignedStep]


def archive_receipt(ctx: ServiceContext, principal: Principal, case_no: str) -> ArchiveReceipt:
    """The 存档回执单 of a case taken in at the window or accepted: its materials and who filed them.

    :raises CaseNotFound: unknown, not visible, not staff, or neither taken in at a window nor accepted.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _staff_case(s, principal, case_no)
        created = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "created")
                           .order_by(CaseEvent.id).limit(1))
        at_window = created is not None and _officer(created.actor) is not None
        if case.accepted_at is None and not at_window:
            raise CaseNotFound(f"办件尚未受理 / case '{case_no}' is not accepted yet")
        # The window that takes the case in files its papers; an online case's papers reach the one accepting it.
        filing = created if at_window else _accepting_event(s, case)
        guide = case.item.guide or {}
        organ = guide.get("accepting_agency") or case.item.department.name
        return ArchiveReceipt(
            facts=_facts(case, organ), number=f"CD{case.case_no}", materials=_materials(s, case),
            officer=_officer(filing.actor) if filing else None,
            filed_at=filing.at if filing else case.accepted_at)


def signoff_sheet(ctx: ServiceContext, principal: Principal, case_no: str) -> SignoffSheet:
    """The 审批签批表: every completed step in order with its officer, opinion and time.

    :raises CaseNotFound: unknown, not visible, or not staff.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _staff_case(s, principal, case_no)
        events = s.scalars(select(CaseEvent).options(joinedload(CaseEvent.actor).joinedload(User.department))
                           .where(CaseEvent.case_id == case.id, CaseEvent.action == "completed")
                           .order_by(CaseEvent.at, CaseEvent.id))
        steps = [SignedStep(event_id=e.id, name=e.task_name or e.task_key or "", officer=_officer(e.actor), at=e.at,
                            data=dict(e.data_after or {}))
                 for e in events]
        guide = case.item.guide or {}
        organ = guide.get("implementing_agency") or case.item.department.name
        return SignoffSheet(facts=_facts(case, organ), number=f"QP{case.case_no}", steps=steps)


def opinion_of(data: Mapping[str, Any], form: FormDefinition | None) -> dict[str, Any]:
    """The conclusion and opinion fields a step entered, blank ones left out; `form` is the step's form as
    the case's process version had it (`case_pages.step_forms`), None when unknown."""
    keys = _opinion_keys(form.raw.get("components") or []) if form is not None else None
    return {k: v for k, v in data.items() if v not in (None, "", [], {})
            and (k in keys if keys is not None else (k in OPINION_NAMES or k.endswith(OPINION_SUFFIXES)))}


def _opinion_keys(components: Iterable[Any]) -> set[str]:
    found: set[str] = set()
    for c in components:
        if not isinstance(c, dict):
            continue
        if c.get("key") and c.get("type") in OPINION_TYPES:
            found.add(str(c["key"]))
        elif c.get("type") != "dynamiclist":  # groups: their fields sit in the step's data by their own keys
            found |= _opinion_keys(c.get("components") or [])
    return found


def _staff_case(s: Session, principal: Principal, case_no: str) -> Case:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    # Applicants get no hint that internal documents exist: the same answer as an unknown case.
    if case is None or not principal.is_staff or not can_see_case(s, principal, case):
        raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
    return case


def _accepting_event(s: Session, case: Case) -> CaseEvent | None:
    events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "status")
                       .order_by(CaseEvent.id))
    return next((e for e in events if (e.data_after or {}).get("status") == "accepted"), None)


def _officer(user: User | None) -> Officer | None:
    if user is None or user.role == "applicant":
        return None
    return Officer(name=user.full_name or user.username, staff_no=user.staff_no or "",
                   department=user.department.name if user.department else "")


def _facts(case: Case, organ: str) -> CaseFacts:
    return CaseFacts(case_no=case.case_no, item_code=case.item.code, item_name=case.item.name,
                     applicant_name=case.applicant.full_name or case.applicant.username,
                     received_at=case.received_at, accepted_at=case.accepted_at, organ=organ)


def _materials(s: Session, case: Case) -> list[FiledMaterial]:
    """The materials the case's item revision asks for, with the files on the case, then any other files."""
    counts: dict[str, int] = {}
    for (material,) in s.execute(select(CaseFile.material).where(CaseFile.case_id == case.id,
                                                                 CaseFile.superseded_at.is_(None))):
        counts[material] = counts.get(material, 0) + 1
    listed = [FiledMaterial(name=str(m["name"]), required=bool(m.get("required")), files=counts.pop(m["name"], 0),
                            copies=str(m.get("copies") or ""), original=str(m.get("original") or ""))
              for m in case_terms(case).materials if isinstance(m, dict) and m.get("name")]
    return listed + [FiledMaterial(name=name, required=False, files=n) for name, n in counts.items()]
