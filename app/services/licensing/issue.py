"""Issuing the e-licence when a granted case's issuance step completes (status `issued` reached).

Runs as a step listener inside the step's transaction (wired in app/services/wiring.py), so the licence
exists exactly when the case is issued; a department without a key gets one generated on its first
licence, so issuance never fails for want of running the CLI first (rotation stays a CLI task).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import InvalidForm
from app.models import Case, CaseCounter, Department, Item, Licence
from app.services.casework.steps import SavedStep
from app.services.context import ServiceContext

from .canonical import canonical_json, digest, sign
from .keys import create_key, current_key, private_key
from .settings import LicenceSettings, item_settings


def listener(keys_dir: Path) -> Callable[[ServiceContext, Session, SavedStep], None]:
    """The step listener, bound to the folder holding the private keys: an item that issues licences
    issues one; an item that changes, renews or cancels one acts on the licence its case names."""
    from . import lifecycle  # lifecycle signs with this module's helpers

    def on_step(ctx: ServiceContext, s: Session, step: SavedStep) -> None:
        if not step.new and "issued" not in step.reached:
            return
        item = s.get(Item, step.case.item_id)
        assert item is not None
        data = step.data()
        if not item_settings(s, item, data, step.case.item_revision_id).acts_on_existing:
            if "issued" in step.reached:
                issue_for_case(s, keys_dir, step.case, data, step.now)
            return
        if step.new:
            # Checked as the case is created, so every way in (portal, window, API) refuses alike and
            # nothing is recorded: a licence the applicant does not hold, or one no longer current.
            errors = lifecycle.application_errors(s, item, step.case.applicant_id, data)
            if errors:
                raise InvalidForm(errors)
            step.case.licence_version = lifecycle.named_version(s, item, data)
        if "issued" in step.reached:
            lifecycle.act_for_case(s, keys_dir, step.case, data, step.now, step.actor_id)
    return on_step


def issue_for_case(s: Session, keys_dir: Path, case: Case, data: Mapping[str, Any], now: datetime) -> Licence | None:
    """Create and sign the case's licence if its item issues one; None otherwise (or if it has one).

    :raises InvalidForm: the licence number is taken by another licence.
    """
    item = s.get(Item, case.item_id)
    assert item is not None
    conf = item_settings(s, item, data, case.item_revision_id)
    # A reissue of a licence the library does not hold yet enters it here (lifecycle.act_for_case).
    acts_on_another = conf.acts_on_existing and conf.action != "reissue"
    if not conf.issues or acts_on_another or s.scalar(select(Licence.id).where(Licence.case_id == case.id)) is not None:
        return None
    dept = s.get(Department, item.department_id)
    assert dept is not None
    issued_on = as_date(data.get("issue_date")) or now.astimezone(CHINA_TZ).date()
    number = str(data.get("licence_no") or "").strip() or _next_number(s, conf, item, dept, issued_on)
    if s.scalar(select(Licence.id).where(Licence.number == number)) is not None:
        raise InvalidForm({"licence_no": ["许可证编号已被使用 / licence number already used"]})
    key = current_key(s, dept.id) or create_key(s, keys_dir, dept, now)
    licence = Licence(
        number=number, version=1, state="valid", case_id=case.id, item_id=item.id, department_id=dept.id,
        licence_type=conf.licence_type, holder_name=_first(data, conf.holder_name),
        holder_id=_first(data, conf.holder_id), content=_content(data, conf), issued_on=issued_on,
        valid_from=issued_on, valid_to=valid_to(issued_on, conf.validity_years), key_id=key.key_id,
        algorithm=key.algorithm, payload_sha256="", signature="", issued_at=now)
    sign_licence(keys_dir, licence, item, dept)
    s.add(licence)
    s.flush()
    return licence


def sign_licence(keys_dir: Path, licence: Licence, item: Item, dept: Department) -> None:
    """Sign the licence's facts with the key its `key_id` names (set the key before calling).

    :raises KeyMissing:
    """
    payload = canonical_json(facts(licence, item, dept))
    licence.payload_sha256 = digest(payload)
    licence.signature = sign(private_key(keys_dir, licence.key_id), payload)


def facts(licence: Licence, item: Item, dept: Department) -> dict[str, Any]:
    """The signed facts (canonical.SIGNED_FIELDS) of a licence as stored."""
    return {
        "number": licence.number, "version": licence.version, "licence_type": licence.licence_type,
        "holder_name": licence.holder_name, "holder_id": licence.holder_id, "item_code": item.code,
        "item_name": item.name, "department_code": dept.code, "department_name": dept.name,
        "content": licence.content, "issued_on": licence.issued_on.isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_to": licence.valid_to.isoformat() if licence.valid_to else None, "key_id": licence.key_id,
    }


def _content(data: Mapping[str, Any], conf: LicenceSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, key in conf.fields.items():
        value = data.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            out[label] = value
        elif isinstance(value, list) and value:
            out[label] = "、".join(str(v) for v in value)
    return out


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return next((str(data[k]).strip() for k in keys if str(data.get(k) or "").strip()), "")


def valid_to(start: date, years: int) -> date | None:
    if years <= 0:
        return None  # 长期有效
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return end - timedelta(days=1)


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None


def _next_number(s: Session, conf: LicenceSettings, item: Item, dept: Department, day: date) -> str:
    """The pattern's `{seq}` counts per item and year in the case-counter table."""
    insert_ = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert_(CaseCounter).values(prefix=f"lic:{item.id}"[:16], day=str(day.year), last=1)
            .on_conflict_do_update(index_elements=["prefix", "day"], set_={"last": CaseCounter.last + 1})
            .returning(CaseCounter.last))
    seq = s.execute(stmt).scalar_one()
    try:
        return conf.number_pattern.format(year=day.year, seq=seq, dept=dept.code.upper(), item=item.case_prefix)
    except (KeyError, IndexError, ValueError):  # a bad pattern must not stop issuance
        return f"{item.case_prefix}{day.year}{seq:06d}"
