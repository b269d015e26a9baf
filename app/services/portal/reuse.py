"""Reusing a held e-licence for a material (减材料, DB4201 Annex A 证照调取): an item's material may name a
licence type; a usable licence of that type the applicant holds then counts as the material provided.

Choices come as {material index: licence number} (the API's `reuse`, the form's `reuse-<index>`). Each is
checked against the licence library when it is made and again when the application is submitted, and the
record keeps the number and version relied on (`ReusedLicence`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import ReusedLicence, User
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.licensing.holdings import Holder, Holding, NotUsable, held, today, usable
from app.services.portal.common import MATERIAL

Chosen = dict[str, Holding]  # material name -> the licence standing for it


def holder_of(s: Session, user_id: int | None, id_number: str | None = None) -> Holder:
    """The applicant as a licence holder: their account's ID number / USCC and cases, else `id_number`
    (a walk-in applicant who may have no account yet)."""
    user = s.get(User, user_id) if user_id is not None else None
    if user is None and id_number:
        user = s.scalar(select(User).where(User.id_number == id_number, User.role == "applicant").limit(1))
    return Holder(id_number=(user.id_number if user is not None else None) or id_number or None,
                  user_id=user.id if user is not None else None)


def offers(s: Session, holder: Holder, materials: list[dict[str, Any]], on: date) -> dict[int, list[Holding]]:
    """For each material that names a licence type, the usable licences of that type the holder has."""
    found: dict[int, list[Holding]] = {}
    for m in materials:
        if m.get("licence_type"):
            mine = held(s, holder, on, m["licence_type"])
            if mine:
                found[m["index"]] = mine
    return found


def checked(s: Session, holder: Holder, materials: list[dict[str, Any]], reuse: Mapping[str, str], on: date
            ) -> tuple[Chosen, dict[str, list[str]]]:
    """The choices that hold, and a message under "_material.<i>" for each that does not (an index the
    item has no material at, a material that names no licence type, a licence not usable)."""
    by_index = {str(m["index"]): m for m in materials}
    chosen: Chosen = {}
    errors: dict[str, list[str]] = {}
    for index, number in reuse.items():
        number = str(number or "").strip()
        if not number:
            continue  # "upload a file instead" on the form
        key = f"{MATERIAL}.{index}" if str(index).isdigit() else MATERIAL
        material = by_index.get(str(index))
        if material is None:
            errors.setdefault(key, []).append(f"该事项没有第 {index} 项材料 / the item has no material {index}")
        elif not material.get("licence_type"):
            errors.setdefault(key, []).append(f"“{material['name']}”不能用电子证照代替 / "
                                              f"{material['name']} cannot be provided by a licence")
        else:
            try:
                chosen[material["name"]] = usable(s, holder, number, material["licence_type"], on)
            except NotUsable as exc:
                errors.setdefault(key, []).append(f"{material['name']}：{exc.message}")
    return chosen, errors


def again(s: Session, holder: Holder, materials: list[dict[str, Any]], rows: list[ReusedLicence], on: date
          ) -> tuple[Chosen, dict[str, list[str]]]:
    """Stored choices (a draft's) checked again: the licence may have been revoked or replaced since."""
    index = {m["name"]: str(m["index"]) for m in materials}
    return checked(s, holder, materials, {index.get(r.material, r.material): r.licence_number for r in rows}, on)


def record(s: Session, chosen: Chosen, by: int, now: datetime, *, case_id: int | None = None,
           draft_id: int | None = None, round_no: int = 0) -> None:
    for material, h in chosen.items():
        s.add(ReusedLicence(case_id=case_id, draft_id=draft_id, material=material, licence_id=h.id,
                            licence_number=h.number, licence_version=h.version, licence_type=h.licence_type,
                            round=round_no, chosen_by_id=by, chosen_at=now))


def draft_rows(s: Session, draft_id: int) -> list[ReusedLicence]:
    return list(s.scalars(select(ReusedLicence).where(ReusedLicence.draft_id == draft_id)
                          .order_by(ReusedLicence.id)))


def last_round(s: Session, case_id: int) -> int:
    """The latest correction round a licence was chosen in (a round may bring licences and no file)."""
    return int(s.scalar(select(func.max(ReusedLicence.round)).where(ReusedLicence.case_id == case_id)) or 0)


def supersede(s: Session, case_id: int, materials: set[str], now: datetime) -> None:
    """A resubmission replaces what stood for these materials, licences as well as files."""
    s.execute(update(ReusedLicence).where(ReusedLicence.case_id == case_id, ReusedLicence.superseded_at.is_(None),
                                          ReusedLicence.material.in_(materials)).values(superseded_at=now))


def holding_view(h: Holding) -> dict[str, Any]:
    return {"number": h.number, "version": h.version, "licence_type": h.licence_type,
            "holder_name": h.holder_name, "valid_to": h.valid_to}


def licence_offers(ctx: ServiceContext, principal: Principal, materials: list[dict[str, Any]]
                   ) -> dict[int, list[dict[str, Any]]]:
    """For the application form: by material index, the licences the signed-in applicant may use for it."""
    with ctx.uow() as uow:
        s = uow.session
        found = offers(s, holder_of(s, principal.id), materials, today(ctx))
        return {i: [holding_view(h) for h in hs] for i, hs in found.items()}
