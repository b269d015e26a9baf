"""Changing (变更), renewing (延续), cancelling (注销) and reissuing (补办) an issued licence through a case
of its own.

An item whose licence settings name an `action` (settings.py) acts, when its case reaches `issued`, on
the licence whose number the case data holds: a change or renewal issues version N+1 under the same
number, signed afresh with the department's current key, and the old version becomes `replaced`
(pointing at its successor); a cancellation revokes the licence. It runs in the step's transaction with
the licence's latest row locked (`SELECT ... FOR UPDATE`), so of two cases racing on one version
exactly one replaces it; the other finds it replaced and its step is refused (409), changing nothing.

A case acts on the version that was current when it was applied for: a version issued since then
(another change, a renewal) is newer than what the applicant asked about, so the later case is refused
rather than applied on top of a licence the applicant has not seen (a renewal must not count twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import Conflict, InvalidForm
from app.models import Case, Department, Item, Licence, User
from app.services import audit

from .issue import as_date, issue_for_case, sign_licence, valid_to
from .keys import create_key, current_key
from .settings import LicenceSettings, item_settings

ACTION_NAMES = {"change": "变更 / change", "renew": "延续 / renewal", "cancel": "注销 / cancellation",
                "reissue": "补办 / reissue"}


def latest(s: Session, number: str, lock: bool = False) -> Licence | None:
    """The newest version of a licence number (locked until the transaction ends with `lock`).

    A locked read refreshes a row the session already holds: after waiting for a racing case's
    transaction, the row must show what that case committed, not what this session read before."""
    query = select(Licence).where(Licence.number == number[:64]).order_by(Licence.version.desc()).limit(1)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return s.scalar(query)


def application_errors(s: Session, item: Item, applicant_id: int, data: Mapping[str, Any]
                       ) -> dict[str, list[str]]:
    """Field errors of an application for an item that acts on an existing licence (none for other
    items): the named licence must exist, be valid in its latest version, be of the item's licence
    type and be held by the applicant."""
    conf = item_settings(s, item, data)
    if not conf.acts_on_existing:
        return {}
    number = str(data.get(conf.licence_key) or "").strip()
    if not number:
        return {conf.licence_key: ["请填写许可证编号 / enter the licence number"]}
    current = latest(s, number)
    if current is None and conf.action == "reissue":
        return {}  # a paper licence from before the library: the window checks the original
    applicant = s.get(User, applicant_id)
    problem = _problem(s, conf, current, applicant_id, applicant.id_number if applicant else None)
    return {conf.licence_key: [problem]} if problem else {}


def act_for_case(s: Session, keys_dir: Path, case: Case, data: Mapping[str, Any], now: datetime,
                 actor_id: int | None) -> Licence | None:
    """Change, renew or cancel the licence the case names; the new version (None for a cancellation).

    :raises InvalidForm: the case names no licence of this item's type held by its applicant.
    :raises Conflict: the licence was replaced or revoked since the case was applied for.
    """
    item = s.get(Item, case.item_id)
    assert item is not None
    conf = item_settings(s, item, data, case.item_revision_id)
    number = str(data.get(conf.licence_key) or "").strip()
    current = latest(s, number, lock=True) if number else None
    if current is None and conf.action == "reissue":
        return issue_for_case(s, keys_dir, case, data, now)  # first entered into the library
    applicant = s.get(User, case.applicant_id)
    problem = _problem(s, conf, current, case.applicant_id, applicant.id_number if applicant else None)
    if current is not None and current.state != "valid":
        raise Conflict(f"许可证 {number} 已被替代或注销，本申请不能再办理，请作不予办理 / licence {number} is "
                       f"{current.state} since this application; refuse the application")
    if problem or current is None:
        raise InvalidForm({conf.licence_key: [problem or "许可证不存在 / no such licence"]})
    if _issued_since(case, current):
        raise Conflict(f"许可证 {number} 在本申请提交后已换发第 {current.version} 版，请作不予办理并请申请人重新申请 / "
                       f"version {current.version} was issued after this application; refuse it and reapply")
    actor = s.get(User, actor_id) if actor_id is not None else None
    if conf.action == "cancel":
        _cancel(s, current, case, now, actor)
        return None
    return _new_version(s, keys_dir, conf, current, case, data, now, actor)


def named_version(s: Session, item: Item, data: Mapping[str, Any]) -> int | None:
    """The version of the licence an application names, as current now (None: it names none)."""
    conf = item_settings(s, item, data)
    number = str(data.get(conf.licence_key) or "").strip() if conf.acts_on_existing else ""
    current = latest(s, number) if number else None
    return current.version if current is not None else None


def _issued_since(case: Case, current: Licence) -> bool:
    """Whether `current` is newer than the version the case named when it was applied for."""
    if case.licence_version is not None:
        return current.version > case.licence_version
    return current.issued_at > case.created_at  # cases applied for before the version was recorded


def _problem(s: Session, conf: LicenceSettings, licence: Licence | None, applicant_id: int,
             applicant_no: str | None) -> str | None:
    if licence is None:
        return "许可证不存在 / no such licence"
    if licence.state != "valid":
        return (f"该许可证已{'注销' if licence.state == 'revoked' else '被替代'}，不能办理 / the licence is "
                f"{licence.state}")
    if licence.licence_type != conf.licence_type:
        return f"该许可证不是{conf.licence_type} / not a {conf.licence_type}"
    own_case = s.scalar(select(exists().where(Licence.number == licence.number, Licence.case_id == Case.id,
                                              Case.applicant_id == applicant_id)))
    if not own_case and not (applicant_no and applicant_no.strip().upper() == licence.holder_id.strip().upper()):
        return "该许可证不属于申请人 / the licence is not held by the applicant"
    return None


def _cancel(s: Session, licence: Licence, case: Case, now: datetime, actor: User | None) -> None:
    licence.state, licence.revoked_at = "revoked", now
    licence.revoked_reason = f"注销 / cancelled at the holder's request, case {case.case_no}"
    licence.revoked_by_id = actor.id if actor else None
    s.flush()
    audit.record(s, actor, now, "licence.cancel", "licence", licence.number,
                 f"注销 {licence.number} v{licence.version}（{case.case_no}）",
                 before={"version": licence.version, "state": "valid"},
                 after={"version": licence.version, "state": "revoked", "case": case.case_no})


def _new_version(s: Session, keys_dir: Path, conf: LicenceSettings, old: Licence, case: Case,
                 data: Mapping[str, Any], now: datetime, actor: User | None) -> Licence:
    item, dept = s.get(Item, old.item_id), s.get(Department, old.department_id)
    assert item is not None and dept is not None
    key = current_key(s, dept.id) or create_key(s, keys_dir, dept, now)
    today = now.astimezone(CHINA_TZ).date()
    new = Licence(
        number=old.number, version=old.version + 1, state="valid", case_id=case.id, item_id=old.item_id,
        department_id=dept.id, licence_type=old.licence_type, holder_name=old.holder_name,
        holder_id=old.holder_id, content=dict(old.content), issued_on=today, valid_from=old.valid_from,
        valid_to=old.valid_to, key_id=key.key_id, algorithm=key.algorithm, payload_sha256="", signature="",
        issued_at=now)
    if conf.action == "change":
        _apply_changes(new, conf, data)
    elif conf.action == "reissue":
        pass  # the same facts; only the version, issue date and signature are new
    else:  # renew: the new term follows the old one without a gap (or starts today if it has lapsed)
        start = max(old.valid_to + timedelta(days=1), today) if old.valid_to else today
        new.valid_from, new.valid_to = start, valid_to(start, conf.validity_years)
    new.issued_on = as_date(data.get("issue_date")) or today
    sign_licence(keys_dir, new, item, dept)
    s.add(new)
    s.flush()
    old.state, old.replaced_at, old.replaced_by_id = "replaced", now, new.id
    s.flush()
    audit.record(s, actor, now, f"licence.{conf.action}", "licence", old.number,
                 f"{ACTION_NAMES[conf.action]} {old.number} v{old.version} → v{new.version}（{case.case_no}）",
                 before=_audited(old), after={**_audited(new), "case": case.case_no})
    return new


def _apply_changes(licence: Licence, conf: LicenceSettings, data: Mapping[str, Any]) -> None:
    """The changed facts: each configured field the case data fills, and the holder's name."""
    content = dict(licence.content)
    for label, key in conf.fields.items():
        value = data.get(key)
        if isinstance(value, list) and value:
            content[label] = "、".join(str(v) for v in value)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            content[label] = value
    licence.content = content
    # `applicant_name` is the account's name, filled by the system on every case: not a change asked for.
    keys = [k for k in conf.holder_name if k != "applicant_name"]
    name = next((str(data[k]).strip() for k in keys if str(data.get(k) or "").strip()), "")
    if name:
        licence.holder_name = name[:300]


def _audited(licence: Licence) -> dict[str, Any]:
    return {"version": licence.version, "holder_name": licence.holder_name, "content": licence.content,
            "valid_from": licence.valid_from.isoformat(),
            "valid_to": licence.valid_to.isoformat() if licence.valid_to else None}
