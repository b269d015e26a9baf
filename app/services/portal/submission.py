"""Applying with the materials in the same request (the API's POST /cases): the portal's checks and
its one rule, not a copy of them. Each file is typed by its bytes within the size, quota and
files-per-application limits (`_store`), and every required material needs a file (`_missing`), so an
application the portal would refuse is refused here too, whichever way it comes in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.orm import Session

from app.errors import InvalidForm
from app.models import Case
from app.services.casework import cases
from app.services.context import ServiceContext
from app.services.documents.files import FileStore, attach
from app.services.identity.principal import Principal
from app.services.licensing.holdings import today
from app.services.portal import reuse as reused
from app.services.portal.common import (
    MATERIAL,
    Upload,
    _allowance,
    _form_errors,
    _materials,
    _missing,
    _store,
)


@dataclass(frozen=True)
class Part:
    """One file posted for the material at `index` in the item's list (the stream is read once)."""

    index: int
    filename: str
    stream: IO[bytes]


def apply(ctx: ServiceContext, principal: Principal, item_code: str, data: dict[str, Any],
          parts: Sequence[Part], store: FileStore, applicant: str | None = None,
          reuse: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Submit an application with its materials: everything is checked before anything is recorded,
    then the case is created with the files on it (one transaction).

    :raises ItemNotFound, Forbidden: :raises InvalidInput: an unknown `applicant`.
    :raises InvalidForm: form errors and "_material.<i>" errors (a refused file, a missing required
        material, an index the item has no material at, a licence in `reuse` the applicant may not use
        for that material) together.
    """
    with ctx.uow() as uow:
        s = uow.session
        item = cases.active_item(s, item_code)
        # Asked first, so a caller who may not apply learns nothing about the files they sent.
        owner = cases.applicant_for(s, principal, applicant)
        materials, form_key = _materials(item), item.form_key
        allowance = _allowance(s, store, owner.id)
        # {material index: licence number}: a held licence instead of a file (减材料)
        chosen, reuse_errors = reused.checked(s, reused.holder_of(s, owner.id), materials, reuse or {},
                                              today(ctx))
    uploads, errors = named_uploads(materials, parts)
    errors.update(_form_errors(ctx, form_key, data))
    errors.update(_named_missing(materials, {u.material for u in uploads} | set(chosen)))
    errors.update(reuse_errors)
    stored, file_errors = _store(uploads, materials, store, allowance, ctx.clock.now())
    errors.update(file_errors)  # a refused file says why, not only that one is missing
    if errors:
        raise InvalidForm(errors)

    def attach_files(s: Session, case: Case) -> None:  # same transaction as the case: all or nothing
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=principal.id,
                   now=ctx.clock.now(), case_id=case.id)
        reused.record(s, chosen, principal.id, ctx.clock.now(), case_id=case.id)

    return cases.create_case(ctx, principal, item_code, data, applicant, records=attach_files)


def named_uploads(materials: list[dict[str, Any]], parts: Sequence[Part]
                  ) -> tuple[list[Upload], dict[str, list[str]]]:
    """The parts as uploads of the materials their indexes point at; an index past the item's list is
    an error under its own key, so the caller sees which part it was."""
    names = {m["index"]: m["name"] for m in materials}
    uploads: list[Upload] = []
    errors: dict[str, list[str]] = {}
    for part in parts:
        if part.index not in names:
            numbered = f"0 to {len(materials) - 1}" if materials else "none: the item lists no materials"
            errors.setdefault(f"{MATERIAL}.{part.index}", []).append(
                f"该事项没有第 {part.index} 项材料 / the item has no material {part.index} (numbered {numbered})")
            continue
        uploads.append(Upload(names[part.index], part.filename, part.stream))
    return uploads, errors


def _named_missing(materials: list[dict[str, Any]], have: set[str]) -> dict[str, list[str]]:
    """The portal's rule (`_missing`), each message naming its material: a client has no page that
    shows the name beside the key."""
    names = {f"{MATERIAL}.{m['index']}": m["name"] for m in materials}
    licensed = {f"{MATERIAL}.{m['index']}": bool(m.get("licence_type")) for m in materials}
    return {key: [f"请上传此材料或使用证照库中的证照：{names[key]} / upload this material or use a licence you hold: "
                  f"{names[key]}" if licensed[key] else f"请上传此材料：{names[key]} / upload this material: {names[key]}"]
            for key in _missing(materials, have)}
