"""Service items: the public guide (read) and administration (write)."""

from __future__ import annotations

from typing import Any

from flask import request

from app.services.casework import items

from . import bp
from .body import json_object
from .schemas import ItemBody
from .security import ctx, login_required, optional_principal, principal


@bp.get("/items")
def list_items() -> Any:
    who = optional_principal()
    everything = bool(who and who.is_admin and request.args.get("all") == "1")
    return {"items": items.list_items(ctx(), include_inactive=everything)}


@bp.get("/items/<code>")
def get_item(code: str) -> Any:
    """An item withdrawn from the catalogue (inactive) is there for administrators only."""
    who = optional_principal()
    return items.get_item(ctx(), code, include_inactive=bool(who and who.is_admin))


@bp.post("/items")
@login_required
def create_item() -> Any:
    items.check_may_configure(principal())  # a 403 says more than the body's errors to a non-admin
    body = ItemBody().load(json_object())
    return items.create_item(ctx(), principal(), body), 201


@bp.put("/items/<code>")
@login_required
def update_item(code: str) -> Any:
    items.check_may_configure(principal())
    body = ItemBody().load({"code": code, **json_object()})
    return items.update_item(ctx(), principal(), code, body)
