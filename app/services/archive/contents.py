"""What goes into a case's archive package, read from the database and the file store: the metadata,
every material, every issued document (each notice as its printed page and its data, each e-licence as
its PDF and signed facts: documents.py), the event log and the process version that ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, CaseEvent, CaseFile, Notice
from app.services.documents.files import FileStore

from .documents import Documents, collect
from .package import to_json

FORMAT = "banjian-archive/1"
LICENCE_TYPE = "01"  # 行政许可
LICENCE_YEARS = 30  # licences are kept 30 years (permanent-class records of a licensing decision)
DEFAULT_YEARS = 10  # every other item


def retention_years(case: Case) -> int:
    """The revision's `retention_years` if its snapshot has one, else the item guide's, else 30 years
    for licences (type 01) and 10 for every other item."""
    snapshot = case.item_revision.snapshot if case.item_revision is not None else {}
    for source in (snapshot, snapshot.get("guide") or {}, case.item.guide or {}):
        value = source.get("retention_years") if isinstance(source, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    type_code = snapshot.get("type_code", case.item.type_code)
    return LICENCE_YEARS if type_code == LICENCE_TYPE else DEFAULT_YEARS


def closed_at(case: Case) -> datetime:
    return case.closed_at or case.decided_at or case.updated_at


def gather(s: Session, store: FileStore, case: Case, years: int) -> tuple[dict[str, bytes], Documents]:
    """Every member of the package but the manifest and the rendered documents, by its path inside the
    zip; and the documents to render (`documents.render`, once the transaction is over).

    :raises FileNotFoundError: a material's stored bytes are gone (the package is not built without them).
    """
    files = list(s.scalars(select(CaseFile).where(CaseFile.case_id == case.id).order_by(CaseFile.id)))
    notices = list(s.scalars(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)))
    entries: dict[str, bytes] = {}
    for f in files:
        entries[f"materials/{f.id:06d}-{_safe(f.filename)}"] = store.path(f.sha256).read_bytes()
    for n in notices:
        entries[f"notices/{_safe(n.number)}.json"] = to_json(_notice(n))
    documents = collect(s, case, notices, _safe)
    entries["events.json"] = to_json(_events(s, case.id))
    process = case.process_definition
    if process is not None:
        entries[f"process/{_safe(process.key)}-v{process.version}.bpmn"] = process.bpmn_xml.encode()
        entries["process/forms.json"] = to_json(process.forms)
    entries["metadata.json"] = to_json({**_metadata(case, years, files, notices),
                                        "documents": documents.listed_notices, "licences": documents.listed_licences})
    return entries, documents


def _metadata(case: Case, years: int, files: list[CaseFile], notices: list[Notice]) -> dict[str, Any]:
    item, revision, process = case.item, case.item_revision, case.process_definition
    department = item.department
    return {
        "format": FORMAT,
        "case": {"case_no": case.case_no, "status": case.status, "application": case.application},
        "item": {"code": item.code, "name": item.name, "type_code": item.type_code,
                 "revision": revision.number if revision is not None else None},
        "applicant": {"username": case.applicant.username, "name": case.applicant.full_name},
        "department": {"code": department.code, "name": department.name} if department else None,
        "dates": {"received_at": case.received_at, "accepted_at": case.accepted_at,
                  "deemed_accepted_at": case.deemed_accepted_at, "decided_at": case.decided_at,
                  "closed_at": closed_at(case)},
        "result": {"status": case.status,
                   "notices": [{"kind": n.kind, "number": n.number} for n in notices
                               if n.kind in ("decision", "refusal")]},
        "retention_years": years,
        "process": {"key": process.key, "version": process.version, "content_hash": process.content_hash}
        if process is not None else None,
        "materials": [{"material": f.material, "filename": f.filename, "sha256": f.sha256, "size": f.size,
                       "round": f.round, "superseded": f.superseded_at is not None} for f in files],
    }


def _notice(n: Notice) -> dict[str, Any]:
    return {"kind": n.kind, "number": n.number, "issued_at": n.issued_at,
            "issued_by": n.issued_by.username if n.issued_by else None, "content": n.content}


def _events(s: Session, case_id: int) -> list[dict[str, Any]]:
    rows = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    return [{"id": e.id, "at": e.at, "actor": e.actor.username if e.actor else None, "action": e.action,
             "task_key": e.task_key, "task_name": e.task_name, "message": e.message,
             "data_before": e.data_before, "data_after": e.data_after} for e in rows]


def _safe(name: str) -> str:
    """A zip member name from user input: no directories, no path tricks."""
    cleaned = "".join("_" if c in '/\\:*?"<>|\0' else c for c in name).strip(". ")
    return cleaned[:120] or "file"
