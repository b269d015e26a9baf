"""The service guide (办事指南): the catalogue and each item's guide with its process diagram."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, send_file

from app.errors import ItemNotFound, NotFound
from app.services.portal import catalogue as find_items
from app.services.portal import group_items, item_guide, process_xml
from app.services.portal.guide import guide_file

from ..session import ctx
from . import bp

GROUPINGS = {"department": ("department", "department_name"), "type": ("type_code", "type_name")}


@bp.get("/items")
def catalogue() -> Any:
    query = request.args.get("q", "").strip()[:100]
    by = request.args.get("by", "department")
    if by not in GROUPINGS:
        by = "department"
    items = find_items(ctx(), query)
    return render_template("portal/catalogue.html", query=query, by=by, count=len(items),
                           groups=group_items(items, *GROUPINGS[by]))


@bp.get("/items/<code>")
def guide(code: str) -> Any:
    try:
        item = item_guide(ctx(), code)
    except ItemNotFound:
        abort(404)
    return render_template("portal/guide.html", item=item)


@bp.get("/items/<code>/process.bpmn")
def process_diagram(code: str) -> Any:
    """The process model behind the guide's diagram: public, as the guide is."""
    try:
        xml = process_xml(ctx(), code)
    except ItemNotFound:
        abort(404)
    response = Response(xml, mimetype="application/xml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/items/<code>/files/<sha256>")
def guide_download(code: str, sha256: str) -> Any:
    """A template or sample file the guide offers: public, as the guide is, and always a download
    (never shown inline: it is somebody's upload)."""
    try:
        ref, path = guide_file(ctx(), code, sha256)
    except NotFound:
        abort(404)
    response = send_file(path, mimetype=ref["content_type"], as_attachment=True, download_name=ref["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
