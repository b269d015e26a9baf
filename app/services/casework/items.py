"""Service items (事项): administration and the public guide."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.errors import Forbidden, InvalidInput, ItemNotFound, ProcessNotFound
from app.models import CASE_KINDS, GUIDE_FIELDS, LIMIT_UNITS, TYPE_CODES, Department, Item
from app.services.casework.processes import form_field_keys, latest_definition
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

# 《行政许可法》 Art. 42: 20 working days, 45 when handled jointly.
STATUTORY_DEFAULT = {False: 20, True: 45}
ITEM_FIELDS = ("code", "name", "type_code", "legal_basis", "case_kind", "statutory_limit", "promised_limit",
               "limit_unit", "joint", "departments", "materials", "fees", "process_key", "form_key",
               "case_prefix", "active", "yellow_ratio", "yellow_days")


def create_item(ctx: ServiceContext, principal: Principal | None, data: dict[str, Any]) -> dict[str, Any]:
    """Create an item from already schema-checked data.

    :raises Forbidden: not an admin. :raises InvalidInput: a rule across fields is broken.
    :raises Conflict: the code is taken.
    """
    check_may_configure(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        if s.scalar(select(Item.id).where(Item.code == data["code"])) is not None:
            raise InvalidInput("item code taken", [{"field": "code", "message": "已存在 / already exists"}])
        item = Item(updated_at=ctx.clock.now())
        _apply(ctx, s, item, data)
        s.add(item)
        s.flush()
        view = item_view(item)
        uow.commit()
        return view


def update_item(ctx: ServiceContext, principal: Principal | None, code: str, data: dict[str, Any]
                ) -> dict[str, Any]:
    """Replace an item's settings; running cases keep what they started with.

    :raises Forbidden, ItemNotFound, InvalidInput:
    """
    check_may_configure(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        item = s.scalar(select(Item).where(Item.code == code))
        if item is None:
            raise ItemNotFound(f"item '{code}' not found")
        if data.get("code", code) != code:
            raise InvalidInput("code cannot change", [{"field": "code", "message": "不可修改 / cannot change"}])
        _apply(ctx, s, item, {**data, "code": code})
        item.updated_at = ctx.clock.now()
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


def _apply(ctx: ServiceContext, s: Any, item: Item, data: dict[str, Any]) -> None:
    errors: list[dict[str, str]] = []
    dept = s.scalar(select(Department).where(Department.code == data["department"]))
    if dept is None:
        errors.append({"field": "department", "message": "未知部门 / unknown department"})
    known = set(s.scalars(select(Department.code).where(Department.code.in_(data.get("departments", [])))))
    for code in data.get("departments", []):
        if code not in known:
            errors.append({"field": "departments", "message": f"未知部门 / unknown department '{code}'"})
    joint = bool(data.get("joint"))
    statutory = data.get("statutory_limit") or STATUTORY_DEFAULT[joint]
    if data["promised_limit"] > statutory:
        errors.append({"field": "promised_limit",
                       "message": f"承诺时限不能超过法定时限 {statutory} / must not exceed the statutory limit"})
    if joint and not data.get("departments"):
        errors.append({"field": "departments", "message": "并联审批需要协办部门 / joint handling needs departments"})
    if data.get("form_key"):
        keys = form_field_keys(ctx, data["form_key"])
        if keys is None:
            errors.append({"field": "form_key", "message": "表单不存在 / form not found"})
        elif keys & ctx.engine.reserved_names:
            errors.append({"field": "form_key", "message": "表单字段名与脚本函数重名 / field names reserved "
                           f"for script helpers: {', '.join(sorted(keys & ctx.engine.reserved_names))}"})
    try:
        latest_definition(s, data["process_key"])
    except ProcessNotFound:
        errors.append({"field": "process_key", "message": "流程未部署 / process not deployed"})
    if errors:
        raise InvalidInput("事项数据无效 / invalid item", errors)
    for f in ITEM_FIELDS:
        if f in data:
            setattr(item, f, data[f])
    item.statutory_limit = statutory
    item.department = dept
    item.guide = {f: data.get(f) or "" for f in GUIDE_FIELDS}


def check_may_configure(principal: Principal | None) -> None:
    """Only administrators configure items (None: the CLI, trusted). :raises Forbidden:"""
    if principal is not None and not principal.is_admin:
        raise Forbidden("只有管理员可以配置事项 / only admins may configure items")
