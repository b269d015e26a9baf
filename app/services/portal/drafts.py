"""Drafts (暂存): saving with uploads (within the applicant's quota), reading, deleting, submitting, and
expiring: a draft left unchanged for DRAFT_DAYS natural days is deleted by the clean-up job. Stored
bytes no record refers to any more are left to that job too (documents.cleanup)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.errors import InvalidForm, NotFound
from app.models import (
    Case,
    CaseFile,
    Draft,
    ReusedLicence,
    User,
)
from app.services.casework import cases
from app.services.context import ServiceContext
from app.services.documents.cleanup import DRAFT_DAYS
from app.services.documents.files import (
    FileStore,
    StoredFile,
    attach,
    files_cap_message,
    quota_message,
    view,
)
from app.services.identity.principal import Principal
from app.services.licensing.holdings import today
from app.services.portal import reuse as reused
from app.services.portal.common import (
    MATERIAL,
    Upload,
    _allowance,
    _form_errors,
    _item,
    _materials,
    _missing,
    _named,
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
               uploads: Sequence[Upload], store: FileStore, draft_id: int | None = None,
               reuse: Mapping[str, str] | None = None) -> Saved:
    """Create or update a draft with the form data as typed, and keep every acceptable upload on it.
    `reuse` ({material index: licence number, or "" for none}), when given, replaces the draft's choice
    of held licences standing for materials (减材料).

    Refused files (type, size, the applicant's quota, the files a draft may carry) and licences the
    applicant may not use are reported in `Saved.errors` and recorded nowhere; the rest is saved anyway.
    :raises ItemNotFound, DraftNotFound, Forbidden:
    """
    _require_applicant(principal)
    with ctx.uow() as uow:
        s = uow.session
        item = _item(s, item_code) if draft_id is None else _draft(s, principal, draft_id).item
        item_id, materials = item.id, _materials(item)
        allowance = _allowance(s, store, principal.id, _file_count(s, draft_id))
        chosen, reuse_errors = reused.checked(s, reused.holder_of(s, principal.id), materials, reuse or {},
                                              today(ctx))
    stored, errors = _store(uploads, materials, store, allowance, ctx.clock.now())
    errors.update(reuse_errors)
    with ctx.uow(write=True) as uow:
        s = uow.session
        now = ctx.clock.now()
        _lock_applicant(s, principal.id)
        if draft_id is None:
            draft = Draft(applicant_id=principal.id, item_id=item_id, data=data, created_at=now, updated_at=now)
            s.add(draft)
        else:
            draft = _draft(s, principal, draft_id)
            draft.data, draft.updated_at = data, now
        s.flush()
        for upload, file in _still_within(s, store, principal.id, draft.id, stored, _keys(materials, errors)):
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=principal.id, now=now,
                   draft_id=draft.id)
        if reuse is not None:  # the form posts every choice each time: what it says now is the choice
            refused = {m["name"] for m in materials if f"{MATERIAL}.{m['index']}" in reuse_errors}
            s.execute(delete(ReusedLicence).where(ReusedLicence.draft_id == draft.id,
                                                  ReusedLicence.material.not_in(refused)))
            reused.record(s, chosen, principal.id, now, draft_id=draft.id)
        saved = Saved(draft.id, errors)
        uow.commit()
        return saved


def _lock_applicant(s: Session, applicant_id: int) -> None:
    """Serialises one applicant's saves, so two at once cannot both spend the last of the quota
    (SQLite's write transaction already does; PostgreSQL needs the row lock)."""
    s.execute(select(User.id).where(User.id == applicant_id).with_for_update())


def _still_within(s: Session, store: FileStore, applicant_id: int, draft_id: int,
                  stored: list[tuple[Upload, StoredFile]], refuse: Callable[[Upload, str], None]
                  ) -> list[tuple[Upload, StoredFile]]:
    """The stored uploads that still fit, counted again under the lock (another save of the same
    applicant may have finished since); the others are refused like an oversized file, and the
    clean-up job removes their bytes."""
    allowance = _allowance(s, store, applicant_id, _file_count(s, draft_id))
    budget, slots = allowance.budget or 0, allowance.slots or 0
    kept = []
    for upload, file in stored:
        if len(kept) < slots and file.size <= budget:
            kept.append((upload, file))
            budget -= file.size
            continue
        refuse(upload, quota_message(store.quota_bytes) if len(kept) < slots
               else files_cap_message(store.files_per_draft))
    return kept


def _keys(materials: list[dict[str, Any]], errors: dict[str, list[str]]) -> Callable[[Upload, str], None]:
    """Records a refusal of an upload under its material's error key, as `_store` does."""
    keys = {m["name"]: f"{MATERIAL}.{m['index']}" for m in materials}

    def refuse(upload: Upload, message: str) -> None:
        errors.setdefault(keys.get(upload.material, MATERIAL), []).append(_named(message, upload.filename))
    return refuse


def _file_count(s: Session, draft_id: int | None) -> int:
    if draft_id is None:
        return 0
    return int(s.scalar(select(func.count()).select_from(CaseFile).where(CaseFile.draft_id == draft_id)) or 0)


def get_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> dict[str, Any]:
    """:raises DraftNotFound: unknown, or someone else's."""
    with ctx.uow() as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        files = s.scalars(select(CaseFile).where(CaseFile.draft_id == draft.id).order_by(CaseFile.id))
        return {"id": draft.id, "item_code": draft.item.code, "item_name": draft.item.name, "data": draft.data,
                "form_key": draft.item.form_key, "materials": _materials(draft.item),
                "files": [view(f) for f in files], "created_at": draft.created_at, "updated_at": draft.updated_at,
                "reused": {r.material: r.licence_number for r in reused.draft_rows(s, draft.id)}}


def list_drafts(ctx: ServiceContext, principal: Principal, keep_days: int = DRAFT_DAYS) -> list[dict[str, Any]]:
    """The applicant's drafts, newest first, each with when the clean-up job will delete it."""
    with ctx.uow() as uow:
        s = uow.session
        counts = dict(s.execute(select(CaseFile.draft_id, func.count()).join(Draft, Draft.id == CaseFile.draft_id)
                                .where(Draft.applicant_id == principal.id).group_by(CaseFile.draft_id)).all())
        drafts = s.scalars(select(Draft).where(Draft.applicant_id == principal.id)
                           .order_by(Draft.updated_at.desc(), Draft.id.desc()))
        return [{"id": d.id, "item_code": d.item.code, "item_name": d.item.name, "updated_at": d.updated_at,
                 "expires_at": expires_at(d.updated_at, keep_days), "files": counts.get(d.id, 0)} for d in drafts]


def expires_at(updated_at: datetime, keep_days: int = DRAFT_DAYS) -> datetime:
    return updated_at + timedelta(days=keep_days)


def delete_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> None:
    """Delete a draft and its file records; the clean-up job removes bytes no record refers to.

    :raises DraftNotFound:
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        s.execute(delete(CaseFile).where(CaseFile.draft_id == draft.id, CaseFile.case_id.is_(None)))
        s.delete(draft)
        uow.commit()


def remove_draft_file(ctx: ServiceContext, principal: Principal, draft_id: int, file_id: int) -> None:
    """Remove a file from a draft (its bytes go with the clean-up job unless another record shares them).

    :raises DraftNotFound: the draft or the file on it is unknown or someone else's.
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        gone = s.execute(delete(CaseFile).where(CaseFile.id == file_id, CaseFile.draft_id == draft.id,
                                                CaseFile.case_id.is_(None))).rowcount
        if not gone:
            raise DraftNotFound("文件不存在 / file not found")
        uow.commit()


def submit_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> dict[str, Any]:
    """Submit a draft: the form must validate and every required material needs a file or a held
    licence standing for it (checked again now); the case is
    created through `cases.create_case`, then the draft's files move onto it and the draft goes.

    :raises DraftNotFound: :raises InvalidForm: form errors and "_material.<i>" errors together.
    """
    with ctx.uow() as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        item_code, form_key, data = draft.item.code, draft.item.form_key, dict(draft.data)
        have = set(s.scalars(select(CaseFile.material).where(CaseFile.draft_id == draft.id)))
        materials = _materials(draft.item)
        # Checked again: a licence chosen when the draft was saved may have been revoked or replaced since.
        chosen, errors = reused.again(s, reused.holder_of(s, principal.id), materials,
                                      reused.draft_rows(s, draft.id), today(ctx))
        errors.update(_missing(materials, have | set(chosen)))
    errors.update(_form_errors(ctx, form_key, data))
    if errors:
        raise InvalidForm(errors)
    def move_files(s: Session, case: Case) -> None:  # same transaction as the case: all or nothing
        moved = s.execute(update(CaseFile).where(CaseFile.draft_id == draft_id, CaseFile.case_id.is_(None))
                          .values(case_id=case.id, draft_id=None)).rowcount
        s.execute(delete(ReusedLicence).where(ReusedLicence.draft_id == draft_id))
        reused.record(s, chosen, principal.id, ctx.clock.now(), case_id=case.id)  # as checked just now
        gone = s.execute(delete(Draft).where(Draft.id == draft_id, Draft.applicant_id == principal.id)).rowcount
        if not gone and not moved:  # submitted twice (a double click): the first submission won
            raise DraftNotFound("暂存件不存在或已提交 / draft not found or already submitted")

    return cases.create_case(ctx, principal, item_code, data, records=move_files)


def _draft(s: Session, principal: Principal, draft_id: int) -> Draft:
    draft = s.get(Draft, draft_id)
    if draft is None or draft.applicant_id != principal.id:
        raise DraftNotFound("草稿不存在 / draft not found")
    return draft
