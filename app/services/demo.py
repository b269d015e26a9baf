"""Demo data: departments, a user for every role and group, the reference processes and items.

Idempotent: loading twice changes nothing the second time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.models import Department, Item, User
from app.services.casework import items, processes
from app.services.context import ServiceContext
from app.services.identity import users

DATA_FILE = Path(__file__).resolve().parents[1] / "demo" / "data.json"


def load_demo(ctx: ServiceContext, data_file: Path = DATA_FILE) -> dict[str, int]:
    """Load the demo set; returns counts of what was new (0 each when it was all there already)."""
    data: dict[str, Any] = json.loads(data_file.read_text(encoding="utf-8"))
    counts = {"departments": 0, "users": 0, "processes": 0, "items": 0}
    with ctx.uow(write=True) as uow:
        existing_departments = set(uow.session.scalars(select(Department.code)))
        for dept in data["departments"]:
            users.ensure_department(uow.session, dept["code"], dept["name"])
        counts["departments"] = len({d["code"] for d in data["departments"]} - existing_departments)
        uow.commit()
    with ctx.uow() as uow:
        existing_users = set(uow.session.scalars(select(User.username)))
        existing_items = set(uow.session.scalars(select(Item.code)))
    for u in data["users"]:
        if u["username"] not in existing_users:
            users.create_user(ctx, u["username"], u["password"], u["role"], u.get("groups", []),
                              full_name=u.get("full_name", ""), staff_no=u.get("staff_no"),
                              department=u.get("department"), phone=u.get("phone"), id_number=u.get("id_number"),
                              id_kind=u.get("id_kind"))
            counts["users"] += 1
    for path in processes.deploy_order(sorted(ctx.bpmn_dir.glob("*.bpmn"))):
        counts["processes"] += sum(d.created for d in processes.deploy(ctx, None, path.read_bytes(), path.name))
    for item in data["items"]:
        if item["code"] not in existing_items:
            items.create_item(ctx, None, _item_defaults(item))
            counts["items"] += 1
    return counts


def _item_defaults(item: dict[str, Any]) -> dict[str, Any]:
    return {"legal_basis": "", "statutory_limit": None, "limit_unit": "wd", "joint": False, "departments": [],
            "materials": [], "fees": "不收费", "form_key": None, "active": True, **item}
