"""The signed-in user's notifications: list (newest first), mark one or all read."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import fields

from app.services.messaging import notifications as service

from . import bp
from .schemas import Paging
from .security import ctx, login_required, principal


class NotificationQuery(Paging):
    unread = fields.Boolean(load_default=False)


@bp.get("/notifications")
@login_required
def list_notifications() -> Any:
    query = NotificationQuery().load(request.args)
    page = service.list_notifications(ctx(), principal(), **query)
    return {**page.as_dict(), "unread": page.unread}


@bp.post("/notifications/<id:notification_id>/read")
@login_required
def read(notification_id: int) -> Any:
    return service.mark_read(ctx(), principal(), notification_id)


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Any:
    return {"marked": service.mark_all_read(ctx(), principal())}
