"""An item's licence settings, read from `item.guide["licence"]` (kept in the guide JSON for now rather than
as item-revision columns, so no revision migration is needed; an item's editor stores it with the guide):

    {"issues": true, "type": "食品经营许可证", "number_pattern": "JY{year}{seq:06d}", "validity_years": 5,
     "holder_name": "business_name", "holder_id": "credit_code",
     "fields": {"经营场所": "business_address", "主体业态": "main_format"}}

Without settings an item issues a licence when its issuance step records a licence number (the reference
processes' issuance form asks for one), with the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Case-data keys the reference forms use for the holder, tried in order.
HOLDER_NAMES = ("holder_name", "business_name", "construction_unit", "company_name", "applicant_name")
HOLDER_IDS = ("holder_id", "credit_code", "id_number")
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


def settings_of(guide: Mapping[str, Any] | None, item_name: str, data: Mapping[str, Any]) -> LicenceSettings:
    guide = guide or {}
    raw = guide.get("licence")
    default_type = str(guide.get("result_name") or item_name)
    if not isinstance(raw, Mapping):
        return LicenceSettings(issues=bool(data.get("licence_no")), licence_type=default_type)
    years = raw.get("validity_years")
    fields = raw.get("fields")
    return LicenceSettings(
        issues=bool(raw.get("issues", True)),
        licence_type=str(raw.get("type") or default_type),
        number_pattern=str(raw.get("number_pattern") or LicenceSettings.number_pattern),
        validity_years=years if isinstance(years, int) and 0 <= years <= 100 else 5,
        holder_name=_keys(raw.get("holder_name"), HOLDER_NAMES),
        holder_id=_keys(raw.get("holder_id"), HOLDER_IDS),
        fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, Mapping) else dict(DEFAULT_FIELDS),
    )


def _keys(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    return (str(value),) if isinstance(value, str) and value else default
