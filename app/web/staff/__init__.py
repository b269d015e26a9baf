"""Staff pages: inbox, task page, case page, window intake."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from ..session import staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/inbox")
@staff_required
def inbox() -> Any:
    return render_template("staff/inbox.html")


@bp.get("/intake")
@staff_required
def intake() -> Any:
    return render_template("staff/inbox.html")
