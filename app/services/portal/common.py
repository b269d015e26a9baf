"""What the portal's use cases share: the item's materials, storing uploads, error keys."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import CaseNotFound, Forbidden, InvalidForm, InvalidInput, ItemNotFound
from app.forms import FormDefinition
from app.models import (
    Case,
    HumanTask,
    Item,
)
from app.services.casework import tasks
from app.services.context import ServiceContext
from app.services.documents.files import FileStore, StoredFile, files_cap_message, stored_bytes
from app.services.identity.principal import Principal

MATERIAL = "_material"  # error key prefix: "_material.3" is the item's fourth material


APPLICANT = "_applicant"  # window intake: "_applicant.id_number"


@dataclass(frozen=True)
class Upload:
    """One uploaded file for the material named `material` (the stream is read once)."""

    material: str
    filename: str
    stream: IO[bytes]


def _item(s: Session, code: str) -> Item:
    item = s.scalar(select(Item).where(Item.code == code, Item.active.is_(True)))
    if item is None:
        raise ItemNotFound(f"事项不存在 / item '{code}' not found")
    return item


def _own_case(s: Session, principal: Principal, case_no: str) -> Case:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or case.applicant_id != principal.id:
        raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
    return case


def _require_applicant(principal: Principal) -> None:
    if "applicant" not in principal.roles:
        raise Forbidden("只有申请人可以在线申请 / only applicants apply online")


def _materials(item: Item) -> list[dict[str, Any]]:
    return [{"index": i, "name": str(m.get("name")), "required": bool(m.get("required")),
             "description": str(m.get("description") or ""), "template": m.get("template") or None,
             "licence_type": str(m.get("licence_type") or "") or None}  # a held licence may stand for it
            for i, m in enumerate(item.materials or []) if isinstance(m, dict) and m.get("name")]


@dataclass(frozen=True)
class Allowance:
    """What one request may still store: `budget` bytes of the applicant's quota (None: no quota) and
    `slots` files (None: no cap)."""

    budget: int | None = None
    slots: int | None = None


def _store(uploads: Sequence[Upload], materials: list[dict[str, Any]], store: FileStore,
           allowance: Allowance = Allowance(), now: datetime | None = None
           ) -> tuple[list[tuple[Upload, StoredFile]], dict[str, list[str]]]:
    """Store each upload by content within `allowance`; refused ones become messages under their
    material's key and leave nothing in the store (sizes are checked before bytes are written)."""
    keys = {m["name"]: f"{MATERIAL}.{m['index']}" for m in materials}
    stored: list[tuple[Upload, StoredFile]] = []
    errors: dict[str, list[str]] = {}
    budget, slots = allowance.budget, allowance.slots
    for upload in uploads:
        key = keys.get(upload.material)
        if key is None:
            errors.setdefault(f"{MATERIAL}", []).append("未知材料 / unknown material")
            continue
        try:
            if slots is not None and len(stored) >= slots:
                raise InvalidInput("too many files",
                                   [{"field": key, "message": files_cap_message(store.files_per_draft)}])
            known = _size(upload.stream)
            if known is not None:
                store.check_size(known, budget, key)
            file = store.put(upload.stream, key, budget=budget, written_at=now)
        except InvalidInput as exc:
            errors.setdefault(key, []).extend(_named(d.get("message", exc.message), upload.filename)
                                              for d in exc.as_errors())
            continue
        stored.append((upload, file))
        budget = None if budget is None else budget - file.size
    return stored, errors


def _size(stream: IO[bytes]) -> int | None:
    """The bytes left in a seekable stream (an upload spooled by the web server), else None."""
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(start)
    except (OSError, ValueError, AttributeError):
        return None
    return end - start


def _allowance(s: Session, store: FileStore, applicant_id: int | None, files_now: int = 0) -> Allowance:
    """The room left: the applicant's quota (no quota when the applicant is not known yet) and the
    file slots of an application that already has `files_now` files."""
    budget = None if applicant_id is None else max(store.quota_bytes - stored_bytes(s, applicant_id), 0)
    return Allowance(budget, max(store.files_per_draft - files_now, 0))


def _named(message: str, filename: str) -> str:
    """"文件为空 / empty file" → "文件为空（a.pdf） / empty file (a.pdf)"."""
    zh, sep, en = message.partition(" / ")
    return f"{zh}（{filename}） / {en} ({filename})" if sep else f"{message} ({filename})"


def _missing(materials: list[dict[str, Any]], have: set[str]) -> dict[str, list[str]]:
    return {f"{MATERIAL}.{m['index']}": ["请上传此材料 / upload this material"]
            for m in materials if m["required"] and m["name"] not in have}


def _form_errors(ctx: ServiceContext, form_key: str | None, data: dict[str, Any],
                 context: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Errors of `data` in the item's application form (a forms/ file: items name it, no process version)."""
    return _errors_in(ctx.forms.get(form_key) if form_key else None, data, context)


def _errors_in(form: FormDefinition | None, data: dict[str, Any],
               context: dict[str, Any] | None = None) -> dict[str, list[str]]:
    if form is None:
        return {}
    try:
        form.validate(data, context or {})
    except InvalidForm as exc:
        return dict(exc.field_errors)
    return {}


def _step_form(ctx: ServiceContext, s: Session, task_id: str) -> FormDefinition | None:
    """The form of an open step as deployed with its case's process version (a formKey's or the inline
    fields'); None for a step without a form or one no longer open.

    :raises ProcessError: the version names a form that cannot be read.
    """
    task = s.get(HumanTask, task_id)
    case = s.get(Case, task.case_id) if task is not None else None
    return tasks.task_form(ctx, s, case, task) if task is not None and case is not None else None
