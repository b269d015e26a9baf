"""差评整改: the rectifications bad ratings opened, for the centre's staff, the supervisors and the rated
departments (the work itself is done on the rectification case's tasks, /tasks/<id>/complete)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import fields, validate

from app.models import CLASSIFICATIONS, RECTIFICATION_STATES
from app.services.ratings import rectification_views as views

from . import bp
from .openapi import id_param, op, query
from .schemas import Paging
from .security import ctx, login_required, principal


class RectificationQuery(Paging):
    state = fields.String(load_default=None, validate=validate.OneOf(RECTIFICATION_STATES))
    department = fields.String(load_default=None, validate=validate.Length(max=64))
    classification = fields.String(load_default=None, validate=validate.OneOf((*CLASSIFICATIONS, "pending")))


OPENAPI_PATHS = {
    "/rectifications": {"get": op("Rectifications of bad ratings (差评整改), newest first, with the rating, the "
                                  "classification, callback, rectification and feedback and the lights of their "
                                  "limits (staff: the centre and supervisors all, a department its own; paginated)",
                                  parameters=query(RectificationQuery))},
    "/rectifications/{id}": {"get": op("One rectification with its clocks and open tasks", parameters=id_param())},
}


@bp.get("/rectifications")
@login_required
def list_rectifications() -> Any:
    q = RectificationQuery().load(request.args)
    page, per_page = q.pop("page"), q.pop("per_page")
    return views.list_rectifications(ctx(), principal(), views.RectificationFilter(**q), page, per_page).as_dict()


@bp.get("/rectifications/<id:rectification_id>")
@login_required
def get_rectification(rectification_id: int) -> Any:
    return views.get_rectification(ctx(), principal(), rectification_id)
