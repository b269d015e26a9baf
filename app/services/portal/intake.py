"""Window intake (窗口收件): a clerk records a walk-in application on an applicant's behalf."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidForm
from app.models import (
    Case,
)
from app.services.casework import cases
from app.services.context import ServiceContext
from app.services.documents.files import FileStore, attach
from app.services.identity.identity import find_or_create_walk_in, normalize_id, walk_in_errors
from app.services.identity.principal import Principal
from app.services.licensing.holdings import today
from app.services.portal import reuse as reused
from app.services.portal.common import (
    APPLICANT,
    Allowance,
    Upload,
    _form_errors,
    _item,
    _materials,
    _missing,
    _store,
)


@dataclass(frozen=True)
class WalkIn:
    kind: str
    id_number: str
    name: str
    phone: str
    contact_name: str = ""  # a company's contact person


def window_intake(ctx: ServiceContext, clerk: Principal, walk_in: WalkIn, item_code: str, data: dict[str, Any],
                  uploads: Sequence[Upload], store: FileStore, reuse: Mapping[str, str] | None = None
                  ) -> dict[str, Any]:
    """A clerk records a walk-in application: the applicant's account is found or opened by identity,
    the case is created on their behalf, and the scanned materials are attached to it. Everything is
    checked before anything is recorded. `reuse` ({material index: licence number}): a licence the
    walk-in applicant holds (by their ID number, or on their earlier cases) stands for that material.

    :raises Forbidden: not a clerk. :raises ItemNotFound:
    :raises InvalidInput: a new applicant without a name.
    :raises InvalidForm: form errors, "_material.<i>" errors (refused or missing scans) and
        "_applicant.<field>" errors (identity).
    """
    if not clerk.has("clerk", "admin"):
        raise Forbidden("只有窗口人员可以代为申请 / only window clerks may apply on behalf of someone")
    with ctx.uow() as uow:
        s = uow.session
        item = _item(s, item_code)
        materials, form_key = _materials(item), item.form_key
        chosen, reuse_errors = reused.checked(s, reused.holder_of(s, None, normalize_id(walk_in.id_number)),
                                              materials, reuse or {}, today(ctx))
    errors = _form_errors(ctx, form_key, data)
    errors.update(_missing(materials, {u.material for u in uploads} | set(chosen)))
    errors.update(reuse_errors)
    for detail in walk_in_errors(ctx, walk_in.kind, walk_in.id_number, walk_in.name, walk_in.phone,
                                 walk_in.contact_name):
        errors.setdefault(f"{APPLICANT}.{detail['field']}", []).append(detail["message"])
    # The applicant may not have an account yet, so no quota here; the cap on files per application holds.
    stored, file_errors = _store(uploads, materials, store, Allowance(slots=store.files_per_draft), ctx.clock.now())
    errors.update(file_errors)
    if errors:
        raise InvalidForm(errors)
    username = find_or_create_walk_in(ctx, clerk, kind=walk_in.kind, id_number=walk_in.id_number,
                                      name=walk_in.name, phone=walk_in.phone, contact_name=walk_in.contact_name,
                                      checked=True)
    def attach_scans(s: Session, case: Case) -> None:  # same transaction as the case
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=clerk.id,
                   now=ctx.clock.now(), case_id=case.id)
        reused.record(s, chosen, clerk.id, ctx.clock.now(), case_id=case.id)

    return cases.create_case(ctx, clerk, item_code, data, applicant=username, records=attach_scans)
