"""The item catalogue's change management (实施清单变更管理): a change is saved as a draft revision, and
published by another administrator, or by its author if they hold the publish right.

Choices, as an administrator of a workflow platform expects them:
- A new item is created as draft revision 1 and stays inactive (not in the guide, no applications)
  until that revision is published; the first publication puts it in the guide.
- An item has at most one open draft: saving again overwrites the draft (same number); publishing it
  supersedes the published revision. Cases keep the revision they started with.
- The publish right is membership of the group `publish`: groups and memberships already exist, the
  signed-in principal carries its groups, and granting the right needs no schema change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.errors import Conflict, Forbidden, InvalidInput, ItemNotFound, NotFound
from app.models import TYPE_CODES, Department, Item, ItemRevision, ProcessDefinition
from app.services import audit
from app.services.admin import item_files, item_rules
from app.services.casework import items as core
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, window


@dataclass(frozen=True)
class ItemFilter:
    department: str | None = None
    type_code: str | None = None
    case_kind: str | None = None
    active: bool | None = None
    query: str = ""


def check_admin(principal: Principal | None) -> None:
    """:raises Forbidden: not an administrator."""
    if principal is None or not principal.is_admin:
        raise Forbidden("只有管理员可以管理事项 / only administrators manage items")


def list_items(ctx: ServiceContext, principal: Principal, flt: ItemFilter, page: int = 1, per_page: int = 20
               ) -> Page[dict[str, Any]]:
    """Items by code, filtered, each with its published and draft revision numbers."""
    check_admin(principal)
    page, per_page = window(page, per_page)
    query = select(Item).join(Department, Department.id == Item.department_id)
    if flt.department:
        query = query.where(Department.code == flt.department)
    if flt.type_code:
        query = query.where(Item.type_code == flt.type_code)
    if flt.case_kind:
        query = query.where(Item.case_kind == flt.case_kind)
    if flt.active is not None:
        query = query.where(Item.active.is_(flt.active))
    if flt.query.strip():
        needle = f"%{flt.query.strip()}%"
        query = query.where(or_(Item.name.ilike(needle), Item.code.ilike(needle)))
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(s.scalars(query.options(joinedload(Item.department)).order_by(Item.code)
                              .offset(offset(page, per_page)).limit(per_page)))
        numbers = _numbers(s, [i.id for i in rows])
        return Page([_row(i, numbers.get(i.id, {})) for i in rows], page, per_page, total)


def item_detail(ctx: ServiceContext, principal: Principal, code: str) -> dict[str, Any]:
    """What the edit page shows: the draft's values (else the published ones), both revisions, the
    history, and whether this administrator may publish the draft (and why not).

    :raises Forbidden, ItemNotFound:
    """
    check_admin(principal)
    with ctx.uow() as uow:
        s = uow.session
        item = _item(s, code)
        draft = _draft(s, item.id)
        published = core.published_revision(s, item.id)
        may, reason = may_publish(principal, draft) if draft is not None else (False, "")
        current = draft or published
        return {
            "code": item.code, "active": item.active, "department_name": item.department.name,
            "values": dict(current.snapshot) if current is not None else core.published_snapshot(s, item),
            "draft": revision_view(draft) if draft else None,
            "published": revision_view(published) if published else None,
            "may_publish": may, "publish_refusal": reason,
        }


def create_item(ctx: ServiceContext, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """A new item as draft revision 1, inactive until published.

    :raises Forbidden, InvalidInput: a rule is broken (each error names its field); the code is taken.
    """
    check_admin(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        taken = s.scalar(select(Item.id).where(Item.code == data["code"])) is not None
        snapshot, errors = item_rules.check(ctx, s, core.snapshot_of(data), data["code"])
        if taken:
            errors.insert(0, {"field": "code", "message": "事项编码已存在 / already exists"})
        _raise(errors)
        now = ctx.clock.now()
        item = core.new_item(s, data["code"], snapshot, now, active=False)
        revision = core.add_revision(s, item, snapshot, principal, now)
        audit.record(s, principal, now, "item.create", "item", item.code,
                     f"{item.name}: draft revision 1", None, snapshot)
        view = revision_view(revision)
        uow.commit()
        return view


def save_draft(ctx: ServiceContext, principal: Principal, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """Save the item's draft revision: the open draft is overwritten, else a new one is numbered.

    :raises Forbidden, ItemNotFound, InvalidInput:
    """
    check_admin(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = _item(s, code, lock=True)
        if data.get("code", code) != code:
            raise InvalidInput("code cannot change", [{"field": "code", "message": "不可修改 / cannot change"}])
        draft = _draft(s, item.id)
        base = dict(draft.snapshot) if draft is not None else core.published_snapshot(s, item)
        snapshot, errors = item_rules.check(ctx, s, core.snapshot_of(data, base), code)
        _raise(errors)
        now = ctx.clock.now()
        if draft is None:
            draft = core.add_revision(s, item, snapshot, principal, now)
        else:  # the one who saves last is the author the four-eyes rule looks at
            draft.snapshot, draft.created_at = snapshot, now
            draft.created_by_id, draft.created_by_name = principal.id, principal.username
        if core.published_revision(s, item.id) is None:
            core.apply_snapshot(s, item, snapshot)  # a never-published item's row holds its draft
        before, after = audit.changes(base, snapshot)
        audit.record(s, principal, now, "item.revise", "item", code, f"draft revision {draft.number}", before, after)
        s.flush()
        view = revision_view(draft)
        uow.commit()
        return view


def publish(ctx: ServiceContext, principal: Principal, code: str, number: int) -> dict[str, Any]:
    """Publish a draft revision: its values become the item's; the first publication activates the item.

    :raises Forbidden: not an admin, or the author without the publish right.
    :raises NotFound: no such revision. :raises Conflict: it is not a draft.
    :raises InvalidInput: a rule no longer holds (the process or groups changed since the draft).
    """
    check_admin(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = _item(s, code, lock=True)
        revision = s.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id, ItemRevision.number == number))
        if revision is None:
            raise NotFound(f"修订 {number} 不存在 / revision {number} not found")
        if revision.state != "draft":
            raise Conflict(f"修订 {number} 不是草稿 / revision {number} is not a draft")
        allowed, reason = may_publish(principal, revision)
        if not allowed:
            raise Forbidden(reason)
        snapshot, errors = item_rules.check(ctx, s, dict(revision.snapshot), code)
        _raise(errors)
        previous = core.published_revision(s, item.id)
        before = dict(previous.snapshot) if previous is not None else {}
        now = ctx.clock.now()
        revision.snapshot = snapshot
        core.publish_revision(s, item, revision, principal, now)
        if previous is None:
            item.active = True
        old, new = audit.changes(before, snapshot)
        audit.record(s, principal, now, "item.publish", "item", code, f"revision {number} published", old, new)
        view = revision_view(revision)
        uow.commit()
        return view


def set_active(ctx: ServiceContext, principal: Principal, code: str, active: bool) -> dict[str, Any]:
    """Put the item in the guide (activate) or take it out; running cases go on either way.

    :raises Forbidden, ItemNotFound: :raises Conflict: activating an item never published.
    """
    check_admin(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = _item(s, code, lock=True)
        if active and core.published_revision(s, item.id) is None:
            raise Conflict("事项尚未发布，请先发布修订 / publish a revision before activating the item")
        if item.active != active:
            item.active = active
            audit.record(s, principal, ctx.clock.now(), "item.activate" if active else "item.deactivate", "item",
                         code, "", {"active": not active}, {"active": active})
        view = {"code": code, "active": item.active}
        uow.commit()
        return view


def history(ctx: ServiceContext, principal: Principal, code: str) -> list[dict[str, Any]]:
    """Every revision, newest first, with the fields it changed against the revision before it.

    :raises Forbidden, ItemNotFound:
    """
    check_admin(principal)
    with ctx.uow() as uow:
        s = uow.session
        item = _item(s, code)
        revisions = list(s.scalars(select(ItemRevision).where(ItemRevision.item_id == item.id)
                                   .order_by(ItemRevision.number)))
        out, before = [], {}
        for revision in revisions:
            old, new = audit.changes(before, revision.snapshot)
            out.append({**revision_view(revision),
                        "changes": [{"field": k, "before": old.get(k), "after": new.get(k)} for k in new]})
            before = revision.snapshot
        return out[::-1]


def may_publish(principal: Principal, revision: ItemRevision) -> tuple[bool, str]:
    """Four eyes: another administrator publishes a draft, or its author with the publish right."""
    if not principal.is_admin:
        return False, "只有管理员可以发布 / only administrators publish"
    if revision.created_by_id != principal.id or core.PUBLISH_GROUP in principal.groups:
        return True, ""
    return False, ("此草稿由您起草，须由另一位管理员发布，或由具有发布权限（publish 用户组）的管理员发布 / "
                   "you drafted this revision: another administrator publishes it, unless you hold the "
                   "publish right (group 'publish')")


def upload_file(ctx: ServiceContext, principal: Principal, stream: IO[bytes], filename: str,
                field: str = "file") -> dict[str, Any]:
    """Store a template or sample file; the reference goes into a draft's materials.

    :raises Forbidden, InvalidInput:
    """
    check_admin(principal)
    return item_files.put(ctx, stream, filename, field)


def admin_file(ctx: ServiceContext, principal: Principal, code: str, sha256: str) -> tuple[dict[str, Any], Path]:
    """A file any revision of the item names (drafts included), for administrators.

    :raises Forbidden, ItemNotFound, NotFound:
    """
    check_admin(principal)
    with ctx.uow() as uow:
        s = uow.session
        item = _item(s, code)
        snapshots = s.scalars(select(ItemRevision.snapshot).where(ItemRevision.item_id == item.id))
        ref = next((r for snap in snapshots for r in item_files.refs(snap) if r["sha256"] == sha256), None)
    path = item_files.store_for(ctx).path(sha256) if ref is not None else None
    if ref is None or path is None or not path.is_file():
        raise NotFound("文件不存在 / file not found")
    return ref, path


def choices(ctx: ServiceContext) -> dict[str, Any]:
    """What the edit form offers: departments and the deployed process keys."""
    with ctx.uow() as uow:
        s = uow.session
        departments = [(c, n) for c, n in s.execute(select(Department.code, Department.name).order_by(Department.code))]
        keys = list(s.scalars(select(ProcessDefinition.key).distinct().order_by(ProcessDefinition.key)))
    return {"departments": departments, "process_keys": keys, "type_codes": TYPE_CODES}


def revision_view(revision: ItemRevision) -> dict[str, Any]:
    return {"number": revision.number, "state": revision.state, "created_by": revision.created_by_name,
            "created_at": revision.created_at, "published_by": revision.published_by_name,
            "published_at": revision.published_at, "snapshot": dict(revision.snapshot)}


def _row(item: Item, numbers: dict[str, int]) -> dict[str, Any]:
    return {"code": item.code, "name": item.name, "department": item.department.code,
            "department_name": item.department.name, "type_code": item.type_code,
            "type_name": TYPE_CODES.get(item.type_code, item.type_code), "active": item.active,
            "published": numbers.get("published"), "draft": numbers.get("draft"), "updated_at": item.updated_at}


def _numbers(s: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {}
    for item_id, number, state in s.execute(select(ItemRevision.item_id, ItemRevision.number, ItemRevision.state)
                                            .where(ItemRevision.item_id.in_(ids),
                                                   ItemRevision.state.in_(("draft", "published")))):
        found.setdefault(item_id, {})[state] = number
    return found


def _item(s: Session, code: str, lock: bool = False) -> Item:
    query = select(Item).where(Item.code == code)
    # Two admins publishing or saving drafts of one item at once take turns.
    item = s.scalar(query.with_for_update() if lock else query)
    if item is None:
        raise ItemNotFound(f"事项不存在 / item '{code}' not found")
    return item


def _draft(s: Session, item_id: int) -> ItemRevision | None:
    return s.scalar(select(ItemRevision).where(ItemRevision.item_id == item_id, ItemRevision.state == "draft"))


def _raise(errors: list[dict[str, str]]) -> None:
    if errors:
        raise InvalidInput("事项数据无效 / invalid item", errors)
