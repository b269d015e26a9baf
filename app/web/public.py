"""Public pages: the landing page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required

from app.services.casework.items import list_items

from .session import ctx, principal

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> Any:
    return render_template("index.html", items=list_items(ctx()))


@bp.get("/home")
@login_required
def home() -> Any:
    """Where signing in lands: staff in their inbox, applicants in their cases."""
    return redirect(url_for("staff.inbox" if principal().is_staff else "portal.my_cases"))
