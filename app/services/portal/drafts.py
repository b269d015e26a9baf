"""Drafts (暂存): saving with uploads, reading, deleting (with the stored bytes no one else uses), submitting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.errors import InvalidForm, NotFound
from app.models import (
    Case,
    CaseFile,
    Draft,
)
from app.services.casework import cases
from app.services.context import ServiceContext
from app.services.documents.files import FileStore, attach, discard_unreferenced, view
from app.services.identity.principal import Principal
from app.services.portal.common import (
    Upload,
    _form_errors,
    _item,
    _materials,
    _missing,
    _require_applicant,
    _store,
)


class DraftNotFound(NotFound):
    pass


@dataclass
class Saved:
    """A saved draft; `errors`: refused files by material error key ("_material.1")."""

    draft_id: int
    errors: dict[str, list[str]] = field(default_factory=dict)


def save_draft(ctx: ServiceContext, principal: Principal, item_code: str, data: dict[str, Any],
               uploads: Sequence[Upload], store: FileStore, draft_id: int | None = None) -> Saved:
    """Create or update a draft with the form data as typed, and keep every acceptable upload on it.

    Refused files (type, size) are reported in `Saved.errors`; the rest is saved anyway.
    :raises ItemNotFound, DraftNotFound, Forbidden:
    """
    _require_applicant(principal)
    with ctx.uow() as uow:
        item = _item(uow.session, item_code) if draft_id is None else _draft(uow.session, principal, draft_id).item
        item_id, materials = item.id, _materials(item)
    stored, errors = _store(uploads, materials, store)
    with ctx.uow(write=True) as uow:
        s = uow.session
        now = ctx.clock.now()
        if draft_id is None:
            draft = Draft(applicant_id=principal.id, item_id=item_id, data=data, created_at=now, updated_at=now)
            s.add(draft)
        else:
            draft = _draft(s, principal, draft_id)
            draft.data, draft.updated_at = data, now
        s.flush()
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=principal.id, now=now,
                   draft_id=draft.id)
        saved = Saved(draft.id, errors)
        uow.commit()
        return saved


def get_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> dict[str, Any]:
    """:raises DraftNotFound: unknown, or someone else's."""
    with ctx.uow() as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        files = s.scalars(select(CaseFile).where(CaseFile.draft_id == draft.id).order_by(CaseFile.id))
        return {"id": draft.id, "item_code": draft.item.code, "item_name": draft.item.name, "data": draft.data,
                "form_key": draft.item.form_key, "materials": _materials(draft.item),
                "files": [view(f) for f in files], "created_at": draft.created_at, "updated_at": draft.updated_at}


def list_drafts(ctx: ServiceContext, principal: Principal) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        s = uow.session
        counts = dict(s.execute(select(CaseFile.draft_id, func.count()).join(Draft, Draft.id == CaseFile.draft_id)
                                .where(Draft.applicant_id == principal.id).group_by(CaseFile.draft_id)).all())
        drafts = s.scalars(select(Draft).where(Draft.applicant_id == principal.id)
                           .order_by(Draft.updated_at.desc(), Draft.id.desc()))
        return [{"id": d.id, "item_code": d.item.code, "item_name": d.item.name, "updated_at": d.updated_at,
                 "files": counts.get(d.id, 0)} for d in drafts]


def delete_draft(ctx: ServiceContext, principal: Principal, draft_id: int, store: FileStore | None = None) -> None:
    """Delete a draft and its file records, and from `store` the bytes no other record shares.

    :raises DraftNotFound:
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        hashes = s.scalars(delete(CaseFile).where(CaseFile.draft_id == draft.id, CaseFile.case_id.is_(None))
                           .returning(CaseFile.sha256)).all()
        s.delete(draft)
        uow.commit()
    if store is not None:
        discard_unreferenced(ctx, store, hashes)


def remove_draft_file(ctx: ServiceContext, principal: Principal, draft_id: int, file_id: int,
                      store: FileStore | None = None) -> None:
    """Remove a file from a draft, and its bytes from `store` unless another record shares them.

    :raises DraftNotFound: the draft or the file on it is unknown or someone else's.
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        hashes = s.scalars(delete(CaseFile).where(CaseFile.id == file_id, CaseFile.draft_id == draft.id,
                                                  CaseFile.case_id.is_(None)).returning(CaseFile.sha256)).all()
        if not hashes:
            raise DraftNotFound("文件不存在 / file not found")
        uow.commit()
    if store is not None:
        discard_unreferenced(ctx, store, hashes)


def submit_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> dict[str, Any]:
    """Submit a draft: the form must validate and every required material needs a file; the case is
    created through `cases.create_case`, then the draft's files move onto it and the draft goes.

    :raises DraftNotFound: :raises InvalidForm: form errors and "_material.<i>" errors together.
    """
    with ctx.uow() as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        item_code, form_key, data = draft.item.code, draft.item.form_key, dict(draft.data)
        have = set(s.scalars(select(CaseFile.material).where(CaseFile.draft_id == draft.id)))
        errors = _missing(_materials(draft.item), have)
    errors.update(_form_errors(ctx, form_key, data))
    if errors:
        raise InvalidForm(errors)
    def move_files(s: Session, case: Case) -> None:  # same transaction as the case: all or nothing
        moved = s.execute(update(CaseFile).where(CaseFile.draft_id == draft_id, CaseFile.case_id.is_(None))
                          .values(case_id=case.id, draft_id=None)).rowcount
        gone = s.execute(delete(Draft).where(Draft.id == draft_id, Draft.applicant_id == principal.id)).rowcount
        if not gone and not moved:  # submitted twice (a double click): the first submission won
            raise DraftNotFound("暂存件不存在或已提交 / draft not found or already submitted")

    return cases.create_case(ctx, principal, item_code, data, records=move_files)


def _draft(s: Session, principal: Principal, draft_id: int) -> Draft:
    draft = s.get(Draft, draft_id)
    if draft is None or draft.applicant_id != principal.id:
        raise DraftNotFound("草稿不存在 / draft not found")
    return draft
