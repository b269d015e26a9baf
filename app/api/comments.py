"""Comments on a case (办件意见/留言): staff read and write them; the applicant reads the public ones.

Only staff write: a service centre answers an applicant through its own channels (the window, 12345,
the correction step for anything that changes the application), so what sits on the case file is the
staff's. The applicant's reading shows the author's role and department, as the portal does, not names.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.services.workbench import case_pages

from . import bp
from .body import json_object
from .openapi import op, path_param
from .schemas import Strict
from .security import ctx, login_required, principal


class CommentBody(Strict):
    body = fields.String(required=True, validate=validate.Length(min=1, max=case_pages.MAX_COMMENT))
    public = fields.Boolean(load_default=False)


OPENAPI_BODIES = (CommentBody,)
OPENAPI_PATHS = {
    "/cases/{case_no}/comments": {
        "get": op("Comments on a case, oldest first: staff who may see the case all of them, its applicant the "
                  "public ones (author's role and department only)", parameters=path_param("case_no")),
        "post": op("Add a comment (staff who may see the case; public: also shown to the applicant)", "201",
                   body="CommentBody", parameters=path_param("case_no")),
    },
}


@bp.get("/cases/<case_no>/comments")
@login_required
def list_comments(case_no: str) -> Any:
    return {"items": case_pages.list_comments(ctx(), principal(), case_no)}


@bp.post("/cases/<case_no>/comments")
@login_required
def add_comment(case_no: str) -> Any:
    body = CommentBody().load(json_object())
    return case_pages.add_comment(ctx(), principal(), case_no, body["body"], public=body["public"]), 201
