"""The signed-in user's notifications: list (newest first), mark one or all read."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import EXCLUDE, Schema, fields, validate

from app.services.messaging import notifications as service

from . import bp
from .security import ctx, login_required, principal


class NotificationQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


@bp.get("/notifications")
@login_required
def list_notifications() -> Any:
    query = NotificationQuery().load(request.args)
    page = service.list_notifications(ctx(), principal(), **query)
    return {"items": page.items, "total": page.total, "unread": page.unread, "page": page.page,
            "per_page": page.per_page}


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Any:
    return service.mark_read(ctx(), principal(), notification_id)


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Any:
    return {"marked": service.mark_all_read(ctx(), principal())}
