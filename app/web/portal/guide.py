"""The service guide (办事指南): the catalogue and each item's guide with its process diagram."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request

from app.errors import ItemNotFound
from app.services.portal import catalogue as find_items
from app.services.portal import group_items, item_guide, process_xml

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
