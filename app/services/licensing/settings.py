"""An item's licence settings, read from `item.guide["licence"]` (kept in the guide JSON for now rather than
as item-revision columns, so no revision migration is needed; an item's editor stores it with the guide):

    {"issues": true, "type": "食品经营许可证", "number_pattern": "JY{year}{seq:06d}", "validity_years": 5,
     "holder_name": "business_name", "holder_id": "credit_code",
     "fields": {"经营场所": "business_address", "主体业态": "main_format"},
     "action": "issue", "licence_key": "existing_licence_no"}

`action` says what a case of the item does to licences when it reaches `issued`: `issue` a new one
(default), or act on the existing licence whose number the case data holds under `licence_key`: `change`
(变更: a new version with the changed `fields`), `renew` (延续: a new version valid `validity_years`
more), `cancel` (注销: the licence is revoked at the holder's request), `reissue` (补办: a new version with
the same facts, so the lost or damaged copy's QR says replaced; a licence from before the library, not
in it, is entered as its first e-licence). See lifecycle.py.

The settings travel with the item's revisions (`licence` in the revision snapshot, so a case acts as the
revision it was applied under said); `guide["licence"]` on the item row is read when no revision holds any.
Without settings an item issues a licence when its issuance step records a licence number (the reference
processes' issuance form asks for one), with the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Item, ItemRevision

# Case-data keys the reference forms use for the holder, tried in order.
HOLDER_NAMES = ("holder_name", "business_name", "construction_unit", "company_name", "applicant_name")
HOLDER_IDS = ("holder_id", "credit_code", "id_number")
ACTIONS = ("issue", "change", "renew", "cancel", "reissue")
DEFAULT_FIELDS = {"项目名称": "project_name", "项目地址": "project_address", "建筑面积": "building_area",
                  "经营场所": "business_address", "主体业态": "main_format", "法定代表人": "legal_representative"}


@dataclass(frozen=True)
class LicenceSettings:
    issues: bool
    licence_type: str
    number_pattern: str = "{item}{year}{seq:06d}"
    validity_years: int = 5
    holder_name: tuple[str, ...] = HOLDER_NAMES
    holder_id: tuple[str, ...] = HOLDER_IDS
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    action: str = "issue"
    licence_key: str = "existing_licence_no"

    @property
    def acts_on_existing(self) -> bool:
        return self.action != "issue"


def item_settings(s: Session, item: Item, data: Mapping[str, Any], revision_id: int | None = None
                  ) -> LicenceSettings:
    """The settings of the item revision `revision_id` (a case's pinned one), else of its published one."""
    query = select(ItemRevision.snapshot).where(ItemRevision.item_id == item.id)
    query = query.where(ItemRevision.id == revision_id) if revision_id else query.where(ItemRevision.state == "published")
    snapshot = s.scalar(query.limit(1))
    licence = snapshot.get("licence") if isinstance(snapshot, Mapping) else None
    guide = {**(item.guide or {}), "licence": licence} if isinstance(licence, Mapping) else item.guide
    return settings_of(guide, item.name, data)


def settings_of(guide: Mapping[str, Any] | None, item_name: str, data: Mapping[str, Any]) -> LicenceSettings:
    guide = guide or {}
    raw = guide.get("licence")
    default_type = str(guide.get("result_name") or item_name)
    if not isinstance(raw, Mapping):
        return LicenceSettings(issues=bool(data.get("licence_no")), licence_type=default_type)
    years = raw.get("validity_years")
    fields = raw.get("fields")
    action = raw.get("action")
    licence_key = raw.get("licence_key")
    return LicenceSettings(
        issues=bool(raw.get("issues", True)),
        licence_type=str(raw.get("type") or default_type),
        number_pattern=str(raw.get("number_pattern") or LicenceSettings.number_pattern),
        validity_years=years if isinstance(years, int) and 0 <= years <= 100 else 5,
        holder_name=_keys(raw.get("holder_name"), HOLDER_NAMES),
        holder_id=_keys(raw.get("holder_id"), HOLDER_IDS),
        fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, Mapping) else dict(DEFAULT_FIELDS),
        action=action if action in ACTIONS else "issue",
        licence_key=licence_key if isinstance(licence_key, str) and licence_key else "existing_licence_no",
    )


def _keys(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    return (str(value),) if isinstance(value, str) and value else default
