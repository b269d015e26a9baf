"""Server-rendered pages. For now a landing page; the inboxes and the applicant portal come next."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from app.services.items import list_items

bp = Blueprint("web", __name__, template_folder="templates")


@bp.get("/")
def index() -> Any:
    return render_template("index.html", items=list_items(current_app.extensions["banjian"]))
