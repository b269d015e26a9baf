"""Service items (事项): reading them for the guide and the API, and the revision core every change goes
through (a numbered revision whose published values are copied onto the item row).

The admin workflow (drafts, the publish right, history) lives in app/services/admin/item_catalogue.py;
this module keeps what the scripted paths need too: `create_item` / `update_item` (POST and PUT
/items, the demo loader, the CLI) save a revision and publish it in the same step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidInput, ItemNotFound, ProcessNotFound
from app.models import (
    CASE_KINDS,
    GUIDE_FIELDS,
    LIMIT_UNITS,
    SNAPSHOT_FIELDS,
    TYPE_CODES,
    Department,
    Item,
    ItemRevision,
)
from app.services import audit
from app.services.casework.processes import form_field_keys, latest_definition
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

# 《行政许可法》 Art. 42: 20 working days, 45 when handled jointly.
STATUTORY_DEFAULT = {False: 20, True: 45}
ITEM_FIELDS = ("code", "name", "type_code", "legal_basis", "case_kind", "statutory_limit", "promised_limit",
               "limit_unit", "joint", "departments", "materials", "fees", "process_key", "form_key",
               "case_prefix", "active", "yellow_ratio", "yellow_days")
Errors = list[dict[str, str]]
# The admin package's full rule set (item_rules.check), handed in by callers that have it: casework
# cannot import the admin package, which builds on it.
Rules = Callable[[ServiceContext, Session, dict[str, Any], str], tuple[dict[str, Any], Errors]]


def create_item(ctx: ServiceContext, principal: Principal | None, data: dict[str, Any], rules: Rules | None = None
                ) -> dict[str, Any]:
    """Create an item from already schema-checked data and publish it as revision 1 at once (the
    scripted path; the pages draft first).

    :raises Forbidden: not an admin. :raises InvalidInput: a rule across fields is broken.
    """
    check_may_publish_at_once(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        if s.scalar(select(Item.id).where(Item.code == data["code"])) is not None:
            raise InvalidInput("item code taken", [{"field": "code", "message": "已存在 / already exists"}])
        snapshot, errors = _checked(ctx, s, snapshot_of(data), data["code"], rules)
        _raise(errors)
        now = ctx.clock.now()
        item = new_item(s, data["code"], snapshot, now, active=bool(data.get("active", True)))
        revision = add_revision(s, item, snapshot, principal, now)
        publish_revision(s, item, revision, principal, now)
        audit.record(s, principal, now, "item.create", "item", item.code, f"{item.name}: revision 1 published",
                     None, snapshot)
        view = item_view(item)
        uow.commit()
        return view


def update_item(ctx: ServiceContext, principal: Principal | None, code: str, data: dict[str, Any],
                rules: Rules | None = None) -> dict[str, Any]:
    """Replace an item's settings as a new revision, published at once; running cases keep the
    revision they started with.

    :raises Forbidden, ItemNotFound, InvalidInput:
    """
    check_may_publish_at_once(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = s.scalar(select(Item).where(Item.code == code))
        if item is None:
            raise ItemNotFound(f"item '{code}' not found")
        if data.get("code", code) != code:
            raise InvalidInput("code cannot change", [{"field": "code", "message": "不可修改 / cannot change"}])
        before = published_snapshot(s, item)
        snapshot, errors = _checked(ctx, s, snapshot_of(data, before), code, rules)
        _raise(errors)
        now = ctx.clock.now()
        revision = add_revision(s, item, snapshot, principal, now)
        publish_revision(s, item, revision, principal, now)
        old, new = audit.changes(before, snapshot)
        audit.record(s, principal, now, "item.revise", "item", code,
                     f"revision {revision.number} published directly", old, new)
        if "active" in data and bool(data["active"]) != item.active:
            item.active = bool(data["active"])
            audit.record(s, principal, now, "item.activate" if item.active else "item.deactivate", "item", code,
                         "", {"active": not item.active}, {"active": item.active})
        s.flush()
        view = item_view(item)
        uow.commit()
        return view


def get_item(ctx: ServiceContext, code: str, include_inactive: bool = False) -> dict[str, Any]:
    """:raises ItemNotFound: no such item, or an inactive one unless `include_inactive`."""
    with ctx.uow() as uow:
        item = uow.session.scalar(select(Item).where(Item.code == code))
        if item is None or not (item.active or include_inactive):
            raise ItemNotFound(f"item '{code}' not found")
        return item_view(item)


def list_items(ctx: ServiceContext, include_inactive: bool = False) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        query = select(Item).order_by(Item.code)
        if not include_inactive:
            query = query.where(Item.active.is_(True))
        return [item_view(i) for i in uow.session.scalars(query)]


def item_view(item: Item) -> dict[str, Any]:
    view = {f: getattr(item, f) for f in ITEM_FIELDS}
    view.update(item.guide or {})
    view.update(
        department=item.department.code, department_name=item.department.name,
        type_name=TYPE_CODES.get(item.type_code), case_kind_name=CASE_KINDS.get(item.case_kind),
        limit_unit_name=LIMIT_UNITS.get(item.limit_unit), updated_at=item.updated_at,
    )
    return view


# -- the revision core ---------------------------------------------------------------------------------

def snapshot_of(data: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values a revision keeps, from schema-checked data (fields it leaves out keep `base`'s);
    an empty statutory limit is the law's default for the kind of handling."""
    snapshot = {f: data[f] if f in data else (base or {}).get(f) for f in SNAPSHOT_FIELDS}
    for f in GUIDE_FIELDS:
        snapshot[f] = snapshot[f] or ""
    snapshot["joint"] = bool(snapshot["joint"])
    snapshot["departments"] = list(snapshot["departments"] or [])
    snapshot["materials"] = [_material(m) for m in snapshot["materials"] or [] if isinstance(m, dict)]
    snapshot["statutory_limit"] = snapshot["statutory_limit"] or STATUTORY_DEFAULT[snapshot["joint"]]
    snapshot["limit_unit"] = snapshot["limit_unit"] or "wd"
    snapshot["fees"] = snapshot["fees"] if snapshot["fees"] is not None else "不收费"
    return snapshot


def _material(m: dict[str, Any]) -> dict[str, Any]:
    """One shape for every material, however it came in (the demo file has no file keys)."""
    return {"name": m.get("name") or "", "required": bool(m.get("required", True)),
            "description": m.get("description") or "", "template": m.get("template") or None,
            "sample": m.get("sample") or None, "licence_type": m.get("licence_type") or None}


def basic_errors(ctx: ServiceContext, s: Session, snapshot: dict[str, Any]) -> Errors:
    """The rules every path checks: departments exist, promised ≤ statutory, joint handling names
    departments, the application form and the process exist."""
    errors: Errors = []
    if s.scalar(select(Department.id).where(Department.code == snapshot["department"])) is None:
        errors.append({"field": "department", "message": "未知部门 / unknown department"})
    known = set(s.scalars(select(Department.code).where(Department.code.in_(snapshot["departments"]))))
    errors += [{"field": "departments", "message": f"未知部门 / unknown department '{code}'"}
               for code in snapshot["departments"] if code not in known]
    if snapshot["promised_limit"] > snapshot["statutory_limit"]:
        errors.append({"field": "promised_limit", "message": f"承诺时限不能超过法定时限 {snapshot['statutory_limit']}"
                       " / must not exceed the statutory limit"})
    if snapshot["joint"] and not snapshot["departments"]:
        errors.append({"field": "departments", "message": "并联审批需要协办部门 / joint handling needs departments"})
    if snapshot.get("form_key"):
        keys = form_field_keys(ctx, snapshot["form_key"])
        if keys is None:
            errors.append({"field": "form_key", "message": "表单不存在 / form not found"})
        elif keys & ctx.engine.reserved_names:
            errors.append({"field": "form_key", "message": "表单字段名与脚本函数重名 / field names reserved "
                           f"for script helpers: {', '.join(sorted(keys & ctx.engine.reserved_names))}"})
    try:
        latest_definition(s, snapshot["process_key"])
    except ProcessNotFound:
        errors.append({"field": "process_key", "message": "流程未部署 / process not deployed"})
    return errors


def new_item(s: Session, code: str, snapshot: dict[str, Any], now: datetime, active: bool) -> Item:
    item = Item(code=code, updated_at=now, active=active)
    apply_snapshot(s, item, snapshot)
    s.add(item)
    s.flush()
    return item


def apply_snapshot(s: Session, item: Item, snapshot: dict[str, Any]) -> None:
    """Copy a revision's values onto the item row (what the guide, inboxes and new cases read)."""
    for f in ITEM_FIELDS:
        if f in snapshot and f not in ("code", "active"):
            setattr(item, f, snapshot[f])
    item.department = s.scalars(select(Department).where(Department.code == snapshot["department"])).one()
    item.guide = {**{f: snapshot.get(f) or "" for f in GUIDE_FIELDS},
                  "result_sample_file": snapshot.get("result_sample_file")}


def add_revision(s: Session, item: Item, snapshot: dict[str, Any], author: Principal | None, now: datetime,
                 state: str = "draft") -> ItemRevision:
    number = (s.scalar(select(func.max(ItemRevision.number)).where(ItemRevision.item_id == item.id)) or 0) + 1
    revision = ItemRevision(item_id=item.id, number=number, state=state, snapshot=snapshot, created_at=now,
                            created_by_id=author.id if author else None,
                            created_by_name=author.username if author else "cli")
    s.add(revision)
    s.flush()
    return revision


def publish_revision(s: Session, item: Item, revision: ItemRevision, publisher: Principal | None,
                     now: datetime) -> None:
    """The revision becomes the item's published one; the one before is superseded (cases that pinned
    it keep it)."""
    for old in s.scalars(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                    ItemRevision.state == "published")):
        old.state = "superseded"
    revision.state = "published"
    revision.published_at = now
    revision.published_by_id = publisher.id if publisher else None
    revision.published_by_name = publisher.username if publisher else "cli"
    apply_snapshot(s, item, revision.snapshot)
    item.updated_at = now
    s.flush()


def published_revision(s: Session, item_id: int) -> ItemRevision | None:
    return s.scalar(select(ItemRevision).where(ItemRevision.item_id == item_id, ItemRevision.state == "published"))


def published_snapshot(s: Session, item: Item) -> dict[str, Any]:
    """The published values (the item row's, for an item from before revisions had a row of its own)."""
    revision = published_revision(s, item.id)
    if revision is not None:
        return dict(revision.snapshot)
    view = item_view(item)
    return snapshot_of({**view, "result_sample_file": (item.guide or {}).get("result_sample_file")})


# Members of this group may publish an item revision they drafted themselves, and publish at once
# through the scripted API; other administrators draft, and another administrator publishes.
PUBLISH_GROUP = "publish"


def check_may_publish_at_once(principal: Principal | None) -> None:
    """The scripted writes (POST/PUT /items) publish without a second pair of eyes, so they need the
    publish right (None: the CLI and the demo loader, trusted). :raises Forbidden:"""
    check_may_configure(principal)
    if principal is not None and PUBLISH_GROUP not in principal.groups:
        raise Forbidden("直接发布事项需要发布权限（publish 用户组）；请先起草（POST /items/drafts 或 "
                        "/items/<code>/revisions），由另一位管理员发布 / publishing at once needs the publish "
                        "right (group 'publish'): save a draft and have another administrator publish it")


def check_may_configure(principal: Principal | None) -> None:
    """Only administrators configure items (None: the CLI, trusted). :raises Forbidden:"""
    if principal is not None and not principal.is_admin:
        raise Forbidden("只有管理员可以配置事项 / only admins may configure items")


def _checked(ctx: ServiceContext, s: Session, snapshot: dict[str, Any], code: str, rules: Rules | None
             ) -> tuple[dict[str, Any], Errors]:
    return rules(ctx, s, snapshot, code) if rules is not None else (snapshot, basic_errors(ctx, s, snapshot))


def _raise(errors: Errors) -> None:
    if errors:
        raise InvalidInput("事项数据无效 / invalid item", errors)
