"""Service items: the public guide (read), the scripted writes (POST/PUT publish at once) and the
revision workflow (drafts, publishing by a second administrator, history, files)."""

from __future__ import annotations

from typing import Any

from flask import request, send_file

from app.errors import InvalidInput
from app.services.admin import item_catalogue as catalogue
from app.services.admin import item_rules
from app.services.casework import items
from app.services.portal import guide as portal_guide

from . import bp
from .body import json_object
from .openapi import id_param, op, path_param
from .schemas import FileRef, ItemBody
from .security import ctx, login_required, optional_principal, principal

CODE = path_param("code")
NUMBER = id_param("number")
OPENAPI_BODIES = (FileRef,)
OPENAPI_PATHS = {
    "/items/{code}/revisions": {
        "get": op("Every revision of an item, newest first, with the fields each changed (admin)", parameters=CODE),
        "post": op("Save the item's draft revision: the open draft is overwritten, else a new one is numbered "
                   "(admin); field rules answer 400 naming the field", body="ItemBody", parameters=CODE)},
    "/items/{code}/revisions/{number}/publish": {"post": op(
        "Publish a draft revision (admin other than its author, or its author in group 'publish')",
        parameters=CODE + NUMBER)},
    "/items/{code}/activate": {"post": op("Put a published item in the guide (admin)", parameters=CODE)},
    "/items/{code}/deactivate": {"post": op("Take an item out of the guide; running cases go on (admin)",
                                            parameters=CODE)},
    "/items/drafts": {"post": op("Create an item as draft revision 1, inactive until published (admin)", "201",
                                 body="ItemBody")},
    "/items/files": {"post": op(
        "Upload a template or sample file (PDF, Word, Excel, PNG, JPEG; 10 MB); returns the FileRef to put "
        "in a material's template/sample or result_sample_file (admin)", "201", requestBody={
            "required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}}}}}})},
    "/items/{code}/files/{sha256}": {"get": op(
        "A template or sample file of a published revision of an active item (public, as the guide is)",
        auth=False, parameters=CODE + path_param("sha256"))},
}


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
    """Scripted creation: revision 1 published at once (the pages and POST /items/drafts draft first)."""
    items.check_may_publish_at_once(principal())  # a 403 says more than the body's errors to a non-admin
    body = ItemBody().load(json_object())
    return items.create_item(ctx(), principal(), body, rules=item_rules.check), 201


@bp.put("/items/<code>")
@login_required
def update_item(code: str) -> Any:
    """Scripted change: a new revision published at once."""
    items.check_may_publish_at_once(principal())
    body = ItemBody().load({"code": code, **json_object()})
    return items.update_item(ctx(), principal(), code, body, rules=item_rules.check)


@bp.post("/items/drafts")
@login_required
def create_draft_item() -> Any:
    catalogue.check_admin(principal())
    body = ItemBody().load(json_object())
    return catalogue.create_item(ctx(), principal(), body), 201


@bp.get("/items/<code>/revisions")
@login_required
def revisions(code: str) -> Any:
    return {"revisions": catalogue.history(ctx(), principal(), code)}


@bp.post("/items/<code>/revisions")
@login_required
def save_draft(code: str) -> Any:
    catalogue.check_admin(principal())
    body = ItemBody().load({"code": code, **json_object()})
    return catalogue.save_draft(ctx(), principal(), code, body)


@bp.post("/items/<code>/revisions/<id:number>/publish")
@login_required
def publish(code: str, number: int) -> Any:
    return catalogue.publish(ctx(), principal(), code, number)


@bp.post("/items/<code>/activate")
@login_required
def activate(code: str) -> Any:
    return catalogue.set_active(ctx(), principal(), code, True)


@bp.post("/items/<code>/deactivate")
@login_required
def deactivate(code: str) -> Any:
    return catalogue.set_active(ctx(), principal(), code, False)


@bp.post("/items/files")
@login_required
def upload_file() -> Any:
    catalogue.check_admin(principal())
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("no file", [{"field": "file", "message": "请选择文件 / choose a file"}])
    return catalogue.upload_file(ctx(), principal(), upload.stream, upload.filename), 201


@bp.get("/items/<code>/files/<sha256>")
def guide_file(code: str, sha256: str) -> Any:
    ref, path = portal_guide.guide_file(ctx(), code, sha256)
    return send_file(path, mimetype=ref["content_type"], as_attachment=True, download_name=ref["filename"])
