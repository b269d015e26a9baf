"""Which materials of a case an e-licence from the licence library stands for (减材料): for the case views
of staff, the applicant and the API. Choosing one is the portal's business (portal/reuse.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ReusedLicence


def reused_on_case(s: Session, case_id: int) -> dict[str, dict[str, Any]]:
    """Material name -> the licence standing for it now (number, version, type, correction round)."""
    rows = s.scalars(select(ReusedLicence).where(ReusedLicence.case_id == case_id,
                                                 ReusedLicence.superseded_at.is_(None)).order_by(ReusedLicence.id))
    return {r.material: {"number": r.licence_number, "version": r.licence_version, "licence_type": r.licence_type,
                         "round": r.round} for r in rows}


def with_sources(materials: list[dict[str, Any]], files: list[str], reused: dict[str, dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """Each material with `source` ("upload", "licence" or None when not provided), its number of current
    files and the licence standing for it; `files`: the material names of the case's current files."""
    return [{**m, "source": "licence" if m["name"] in reused else "upload" if m["name"] in files else None,
             "files": files.count(m["name"]), "licence": reused.get(m["name"])} for m in materials]
